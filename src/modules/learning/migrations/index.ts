import type { Migration } from 'kysely';
import { outboxMigration } from '../../../platform/messaging/outbox.js';
import * as learning from './0001-learning.js';
import * as orderLock from './0002-order-lock-advisory.js';

export const learningMigrations: Record<string, Migration> = {
  '0000-messaging': outboxMigration('learning'),
  '0001-learning': learning,
  '0002-order-lock-advisory': orderLock,
};
