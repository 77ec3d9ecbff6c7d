import type { Migration } from 'kysely';
import { outboxMigration } from '../../../platform/messaging/outbox.js';
import * as orders from './0001-orders.js';

export const commerceMigrations: Record<string, Migration> = {
  '0000-messaging': outboxMigration('commerce'),
  '0001-orders': orders,
};
