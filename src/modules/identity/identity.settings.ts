import { Type } from 'typebox';
import type { SettingsOf } from '../../platform/settings.js';

/** The identity module's environment settings (the platform's config holds platform settings only). */
export const IdentitySettings = Type.Object({
  IDENTITY_KEY_SECRET: Type.Optional(
    Type.String({
      minLength: 32,
      secret: true,
      description:
        'Secret that seals signing keys and TOTP secrets at rest (32+ characters); unset stores them unsealed',
    }),
  ),
  IDENTITY_KEY_SECRET_PREVIOUS: Type.Optional(
    Type.Array(Type.String({ minLength: 32 }), {
      secret: true,
      description:
        'Earlier IDENTITY_KEY_SECRET values, comma-separated, during a rotation: they only open values sealed before it, until the hourly reseal job has sealed them again under IDENTITY_KEY_SECRET (log "left: 0"); then remove them',
    }),
  ),
  PASSWORD_HASHES_AT_ONCE: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 64,
      description:
        'Argon2 hashes and verifications run at once (each holds 19 MiB); the rest wait in order. Unset: the CPU count',
    }),
  ),
  IDENTITY_URL: Type.Optional(
    Type.String({
      format: 'uri',
      pattern: '^https?://',
      description:
        'Base URL of the identity service, for modules in a process without identity (internal API, token endpoint, JWKS)',
      examples: ['http://127.0.0.1:3001'],
    }),
  ),
});
export type IdentitySettings = SettingsOf<typeof IdentitySettings>;
