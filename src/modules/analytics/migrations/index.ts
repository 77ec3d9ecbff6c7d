import type { Migration } from 'kysely';
import { outboxMigration } from '../../../platform/messaging/outbox.js';
import * as analytics from './0001-analytics.js';
import * as courseTags from './0002-course-tags.js';
import * as courseFactsTime from './0003-course-facts-time.js';
import * as signUpsWithoutAddress from './0004-sign-ups-without-address.js';

export const analyticsMigrations: Record<string, Migration> = {
  '0000-messaging': outboxMigration('analytics'),
  '0001-analytics': analytics,
  '0002-course-tags': courseTags,
  '0003-course-facts-time': courseFactsTime,
  '0004-sign-ups-without-address': signUpsWithoutAddress,
};
