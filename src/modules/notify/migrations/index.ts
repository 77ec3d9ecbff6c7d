import type { Migration } from 'kysely';
import { outboxMigration } from '../../../platform/messaging/outbox.js';
import * as notify from './0001-notify.js';
import * as entitlementsByUser from './0002-entitlements-by-user.js';

export const notifyMigrations: Record<string, Migration> = {
  '0000-messaging': outboxMigration('notify'),
  '0001-notify': notify,
  '0002-entitlements-by-user': entitlementsByUser,
};
