import type { Migration } from 'kysely';
import { outboxMigration } from '../../../platform/messaging/outbox.js';
import * as analytics from './0001-analytics.js';

export const analyticsMigrations: Record<string, Migration> = {
  '0000-messaging': outboxMigration('analytics'),
  '0001-analytics': analytics,
};
