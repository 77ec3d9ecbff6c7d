import type { Migration } from 'kysely';
import { outboxMigration } from '../../../platform/messaging/outbox.js';
import * as notify from './0001-notify.js';

export const notifyMigrations: Record<string, Migration> = {
  '0000-messaging': outboxMigration('notify'),
  '0001-notify': notify,
};
