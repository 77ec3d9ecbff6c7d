import type { Migration } from 'kysely';
import { outboxMigration } from '../../../platform/messaging/outbox.js';
import * as identity from './0001-identity.js';
import * as accountClosure from './0002-account-closure.js';

export const identityMigrations: Record<string, Migration> = {
  '0000-messaging': outboxMigration('identity'),
  '0001-identity': identity,
  '0002-account-closure': accountClosure,
};
