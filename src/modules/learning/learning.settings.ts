import { Type } from 'typebox';
import type { SettingsOf } from '../../platform/settings.js';

/** The learning module's environment settings. */
export const LearningSettings = Type.Object({
  LEARNING_URL: Type.Optional(
    Type.String({
      format: 'uri',
      pattern: '^https?://',
      description:
        'Base URL of the learning service, for modules in a process without learning (commerce asks it what a user owns)',
      examples: ['http://127.0.0.1:3003'],
    }),
  ),
  LEARNING_CONTENT_URL_SECRET: Type.Optional(
    Type.String({
      minLength: 32,
      secret: true,
      sameOnEveryInstance: true,
      description:
        'Key for signed lesson content URLs, the same on every instance (32+ characters); unset: generated in DATA_DIR',
    }),
  ),
  LEARNING_CONTENT_URL_SECONDS: Type.Integer({
    minimum: 10,
    maximum: 3600,
    default: 300,
    description: 'How long a signed lesson content URL opens the lesson',
  }),
  LEARNING_ACCESS_CACHE_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 60,
    description: 'How long an entitlement answer and the catalog facts behind a content check stay cached',
  }),
  LEARNING_PROGRESS_INTERVAL_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 300,
    default: 5,
    description: 'Progress reports of one lesson closer together than this are answered but ignored',
  }),
  LEARNING_TIME_CAP_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 60,
    description: 'Most learning time one progress report may add',
  }),
});
export type LearningSettings = SettingsOf<typeof LearningSettings>;
