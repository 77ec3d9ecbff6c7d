import type { Migration } from 'kysely';
import { outboxMigration } from '../../../platform/messaging/outbox.js';
import * as community from './0001-community.js';
import * as tombstones from './0002-tombstones-held-replies.js';
import * as listedText from './0003-listed-review-text.js';
import * as personalDataIndexes from './0004-personal-data-indexes.js';
import * as moderationLogAuthor from './0005-moderation-log-author.js';
import * as commentFirstVisible from './0006-comment-first-visible.js';
import * as reviewFirstVisible from './0007-review-first-visible.js';

export const communityMigrations: Record<string, Migration> = {
  '0000-messaging': outboxMigration('community'),
  '0001-community': community,
  '0002-tombstones-held-replies': tombstones,
  '0003-listed-review-text': listedText,
  '0004-personal-data-indexes': personalDataIndexes,
  '0005-moderation-log-author': moderationLogAuthor,
  '0006-comment-first-visible': commentFirstVisible,
  '0007-review-first-visible': reviewFirstVisible,
};
