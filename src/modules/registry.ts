import type { KeySource } from '../platform/http/auth.js';
import type { LecternModule, Platform } from '../platform/module.js';
import { createCatalogModule } from './catalog/index.js';
import { createIdentityModule, DEMO_INSTRUCTOR_EMAILS } from './identity/index.js';

export const MODULE_NAMES = ['identity', 'catalog'] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];

export interface ComposedModules {
  modules: LecternModule[];
  /** Access-token keys: the identity module's own when it runs here, else the JWKS URL. */
  keys: KeySource | URL;
}

/**
 * Build the modules this process runs. Other modules see identity only through its public
 * `api`; when identity runs elsewhere, tokens are verified against its JWKS URL.
 */
export function composeModules(platform: Platform, only?: readonly string[]): ComposedModules {
  const wanted = new Set(only && only.length > 0 ? only : MODULE_NAMES);
  for (const name of wanted) {
    if (!(MODULE_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown module "${name}"; known modules: ${MODULE_NAMES.join(', ')}`);
    }
  }
  const modules: LecternModule[] = [];
  let keys: KeySource | URL | undefined = platform.config.jwksUrl
    ? new URL(platform.config.jwksUrl)
    : undefined;
  // identity first: its seed creates the demo instructors that the catalog's seed gives courses to
  const identity = wanted.has('identity')
    ? createIdentityModule(platform, { keyEncryptionSecret: platform.config.identityKeySecret })
    : undefined;
  if (identity) {
    modules.push(identity);
    keys = identity.api.keys;
  }
  if (wanted.has('catalog')) {
    modules.push(
      createCatalogModule(platform, {
        assetUrlSecret: platform.config.assetUrlSecret,
        // split deployments: the catalog keeps the names it was given when courses were created
        instructors: identity && {
          displayNameOf: async (id: string) => (await identity.api.getUser(id))?.displayName,
        },
        demoInstructors:
          identity &&
          (async () => {
            const users = await Promise.all(
              DEMO_INSTRUCTOR_EMAILS.map((email) => identity.api.findUserByEmail(email)),
            );
            return users.flatMap((u) => (u ? [{ id: u.id, displayName: u.displayName }] : []));
          }),
      }),
    );
  }
  if (!keys) throw new Error('JWKS_URL must be set when the identity module does not run in this process');
  return { modules, keys };
}
