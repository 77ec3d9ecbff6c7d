import { Type } from 'typebox';
import type { SettingsOf } from '../../platform/settings.js';

/** The catalog module's environment settings (the platform's config holds platform settings only). */
export const CatalogSettings = Type.Object({
  CATALOG_URL: Type.Optional(
    Type.String({
      format: 'uri',
      pattern: '^https?://',
      description:
        'Base URL of the catalog service, for modules in a process without the catalog (commerce asks it for prices)',
      examples: ['http://127.0.0.1:3002'],
    }),
  ),
  ASSET_URL_SECRET: Type.Optional(
    Type.String({
      minLength: 32,
      secret: true,
      sameOnEveryInstance: true,
      description:
        'Key for signed content URLs, the same on every instance (32+ characters); unset: generated in DATA_DIR',
    }),
  ),
  CATALOG_DETAIL_CACHE_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 300,
    description: 'How long a course page stays cached',
  }),
  CATALOG_LIST_CACHE_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 60,
    description: 'How long a course list or search page stays cached',
  }),
});
export type CatalogSettings = SettingsOf<typeof CatalogSettings>;
