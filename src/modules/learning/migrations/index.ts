import type { Migration } from 'kysely';
import { outboxMigration } from '../../../platform/messaging/outbox.js';
import * as learning from './0001-learning.js';

export const learningMigrations: Record<string, Migration> = {
  '0000-messaging': outboxMigration('learning'),
  '0001-learning': learning,
};
