import { Type } from 'typebox';
import type { SettingsOf } from '../../platform/settings.js';

/** The analytics module's environment settings. */
export const AnalyticsSettings = Type.Object({
  ANALYTICS_INGEST_BATCHES_PER_MINUTE: Type.Integer({
    minimum: 1,
    maximum: 1000000,
    default: 120,
    description: 'Event batches one client (X-Client-Id, else its address) may send per minute',
  }),
  ANALYTICS_ACCEPT_PAST_DAYS: Type.Integer({
    minimum: 1,
    maximum: 30,
    default: 7,
    description: 'How old a client event may be (occurredAt) and still be accepted',
  }),
  ANALYTICS_SCORE_WINDOW_DAYS: Type.Integer({
    minimum: 1,
    maximum: 365,
    default: 30,
    description: 'Activity score: the window of days A, B and C are measured over',
  }),
  ANALYTICS_SCORE_MINUTES_CAP: Type.Integer({
    minimum: 1,
    maximum: 100000,
    default: 600,
    description: 'Activity score: learning minutes in the window at which B reaches 1',
  }),
  ANALYTICS_SCORE_INTERACTIONS_CAP: Type.Integer({
    minimum: 1,
    maximum: 100000,
    default: 20,
    description:
      'Activity score: interactions (completions, reviews, shares) in the window at which C reaches 1',
  }),
  ANALYTICS_REPORT_MAX_DAYS: Type.Integer({
    minimum: 1,
    maximum: 3660,
    default: 366,
    description: 'Longest date range one report may span',
  }),
});
export type AnalyticsSettings = SettingsOf<typeof AnalyticsSettings>;
