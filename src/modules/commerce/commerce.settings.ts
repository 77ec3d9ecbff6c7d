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
});
export type CommerceSettings = SettingsOf<typeof CommerceSettings>;

/** Commerce's settings and its payment providers', as one section of `.env.example`. */
export const CommerceModuleSettings = Type.Object({
  ...CommerceSettings.properties,
  ...ProviderSettings.properties,
});
export type CommerceModuleSettings = SettingsOf<typeof CommerceModuleSettings>;
