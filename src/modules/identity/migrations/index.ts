import type { Migration } from 'kysely';
import { outboxMigration } from '../../../platform/messaging/outbox.js';
import * as identity from './0001-identity.js';
import * as accountClosure from './0002-account-closure.js';
import * as emailChange from './0003-email-change.js';
import * as dataExports from './0004-data-exports.js';
import * as dataExportNotice from './0005-data-export-notice.js';

export const identityMigrations: Record<string, Migration> = {
  '0000-messaging': outboxMigration('identity'),
  '0001-identity': identity,
  '0002-account-closure': accountClosure,
  '0003-email-change': emailChange,
  '0004-data-exports': dataExports,
  '0005-data-export-notice': dataExportNotice,
};
