import type { Migration } from 'kysely';
import { outboxMigration } from '../../../platform/messaging/outbox.js';
import * as identity from './0001-identity.js';

export const identityMigrations: Record<string, Migration> = {
  '0000-messaging': outboxMigration('identity'),
  '0001-identity': identity,
};
