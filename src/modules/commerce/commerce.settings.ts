import { Type } from 'typebox';
import type { SettingsOf } from '../../platform/settings.js';
import { ProviderSettings } from './providers/providers.settings.js';

/** The commerce module's own settings; the payment providers' are in `providers/providers.settings.ts`. */
export const CommerceSettings = Type.Object({
  COMMERCE_ORDER_TTL_MINUTES: Type.Integer({
    minimum: 1,
    maximum: 7 * 24 * 60,
    default: 30,
    description: 'How long an unpaid order waits for its payment before it expires',
  }),
  COMMERCE_DATA_KEYS: Type.Optional(
    Type.String({
      minLength: 1,
      secret: true,
      examples: ['2026a:<output of openssl rand -base64 32>'],
      description:
        'Keys that seal payer identifiers at rest: kid:base64key[,kid:base64key…], 32-byte keys, the first seals, the others only open (rotation). Unset: a development key derived from a fixed text, logged as a warning; never unset in production',
    }),
  ),
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
  COMMERCE_REFUND_STUCK_MINUTES: Type.Integer({
    minimum: 1,
    maximum: 30 * 24 * 60,
    default: 60,
    description:
      'A refund approved or sent this long ago without the provider’s answer is asked about at the provider (every 5 minutes); one still unsettled is logged at warn and counted',
  }),
});
export type CommerceSettings = SettingsOf<typeof CommerceSettings>;

/** Commerce's settings and its payment providers', as one section of `.env.example`. */
export const CommerceModuleSettings = Type.Object({
  ...CommerceSettings.properties,
  ...ProviderSettings.properties,
});
export type CommerceModuleSettings = SettingsOf<typeof CommerceModuleSettings>;
