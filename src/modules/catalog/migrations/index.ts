import type { Migration } from 'kysely';
import { outboxMigration } from '../../../platform/messaging/outbox.js';
import * as categories from './0001-categories.js';
import * as courses from './0002-courses.js';
import * as searchSimplified from './0003-search-simplified.js';
import * as invitations from './0004-instructor-invitations.js';
import * as indexesByUser from './0005-indexes-by-user.js';

export const catalogMigrations: Record<string, Migration> = {
  '0000-messaging': outboxMigration('catalog'),
  '0001-categories': categories,
  '0002-courses': courses,
  '0003-search-simplified': searchSimplified,
  '0004-instructor-invitations': invitations,
  '0005-indexes-by-user': indexesByUser,
};
