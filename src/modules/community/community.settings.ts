import { Type } from 'typebox';
import type { SettingsOf } from '../../platform/settings.js';

/** The community module's environment settings. */
export const CommunitySettings = Type.Object({
  COMMUNITY_RATING_PRIOR_MEAN: Type.Number({
    minimum: 1,
    maximum: 5,
    default: 3.5,
    description:
      'Bayesian average: the rating a course is assumed to have before its reviews (m); changing it needs a recompute',
  }),
  COMMUNITY_RATING_PRIOR_WEIGHT: Type.Integer({
    minimum: 0,
    maximum: 10000,
    default: 10,
    description: 'Bayesian average: how many reviews the prior counts as (C)',
  }),
  COMMUNITY_POSTS_PER_WINDOW: Type.Integer({
    minimum: 1,
    maximum: 100000,
    default: 10,
    description: 'Reviews, comments and reports one user may post per window',
  }),
  COMMUNITY_POST_WINDOW_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86400,
    default: 60,
    description: 'Length of the posting rate-limit window',
  }),
  COMMUNITY_SENSITIVE_WORDS_FILE: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'A UTF-8 file of extra sensitive words, one per line, held for moderation beside the shipped Chinese and English lists',
    }),
  ),
  COMMUNITY_LIST_CACHE_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 3600,
    default: 30,
    description: 'How long an anonymous review list page stays cached (every change drops it at once)',
  }),
});
export type CommunitySettings = SettingsOf<typeof CommunitySettings>;
