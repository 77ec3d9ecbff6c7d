import { Type } from 'typebox';
import type { SettingsOf } from '../../platform/settings.js';

/** The commerce module's environment settings (the platform's config holds platform settings only). */
export const CommerceSettings = Type.Object({
  COMMERCE_PLATFORM_FEE_BPS: Type.Integer({
    minimum: 0,
    maximum: 10_000,
    default: 3000,
    description:
      "The platform's share of each sale in basis points (3000 = 30 %); the rest goes to the instructors",
  }),
  COMMERCE_REFUND_WINDOW_DAYS: Type.Integer({
    minimum: 0,
    maximum: 365,
    default: 7,
    description: 'Days after payment within which a learner refund is approved without review',
  }),
  COMMERCE_REFUND_MAX_CONSUMED_BPS: Type.Integer({
    minimum: 0,
    maximum: 10_000,
    default: 2000,
    description:
      'Share of a course a learner may have consumed (basis points, 2000 = 20 %) for a refund without review',
  }),
});
export type CommerceSettings = SettingsOf<typeof CommerceSettings>;
