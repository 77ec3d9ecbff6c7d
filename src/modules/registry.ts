import type { KeySource } from '../platform/http/auth.js';
import {
  clientCredentialsTokens,
  createInternalClient,
  type AccessTokenSource,
  type InternalClient,
} from '../platform/http/internal-client.js';
import type { LecternModule, Platform } from '../platform/module.js';
import { CATALOG_REQUIRES, type CatalogApi, createCatalogModule } from './catalog/index.js';
import { COMMERCE_REQUIRES, type CommerceApi, createCommerceModule } from './commerce/index.js';
import {
  createIdentityModule,
  type IdentityApi,
  type IdentityDirectory,
  identityHttpClient,
  INTERNAL_SCOPE,
} from './identity/index.js';
import { loadModuleSettings, type ModuleSettings } from './settings.js';

/** Every module, in dependency order (a module comes after the modules it requires). */
export const MODULE_NAMES = ['identity', 'catalog', 'commerce'] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];

/** The API each module offers the others: the same interface in-process and over HTTP. */
export interface ModuleApis {
  identity: IdentityDirectory;
  catalog: CatalogApi;
  commerce: CommerceApi;
}

/** The APIs a module declared in `requires`, handed to its factory. */
export type RequiredApis<R extends readonly ModuleName[]> = { readonly [K in R[number]]: ModuleApis[K] };

export interface ModuleDefinition<N extends ModuleName, R extends readonly ModuleName[]> {
  /** Modules whose API this one calls; in-process when they run here, else over HTTP. */
  requires: R;
  create(
    platform: Platform,
    context: { settings: ModuleSettings; apis: RequiredApis<R> },
  ): LecternModule & { api: ModuleApis[N] };
}

/** How other processes reach a module's API when it runs elsewhere. */
export interface RemoteDefinition<N extends ModuleName> {
  /** The setting holding the module's base URL, e.g. IDENTITY_URL. */
  urlSetting: string;
  url(settings: ModuleSettings): string | undefined;
  client(http: InternalClient): ModuleApis[N];
}

const defineModule = <N extends ModuleName, R extends readonly ModuleName[]>(
  definition: ModuleDefinition<N, R>,
) => definition;

const MODULES = {
  identity: defineModule<'identity', readonly []>({
    requires: [],
    create: (platform, { settings }) =>
      createIdentityModule(platform, { keyEncryptionSecret: settings.identity.IDENTITY_KEY_SECRET }),
  }),
  catalog: defineModule<'catalog', typeof CATALOG_REQUIRES>({
    requires: CATALOG_REQUIRES,
    create: (platform, { settings, apis }) =>
      createCatalogModule(platform, {
        assetUrlSecret: settings.catalog.ASSET_URL_SECRET,
        cacheTtl: {
          detailSeconds: settings.catalog.CATALOG_DETAIL_CACHE_SECONDS,
          listSeconds: settings.catalog.CATALOG_LIST_CACHE_SECONDS,
        },
        identity: apis.identity,
      }),
  }),
  commerce: defineModule<'commerce', typeof COMMERCE_REQUIRES>({
    requires: COMMERCE_REQUIRES,
    create: (platform, { settings, apis }) =>
      // entitlements: commerce's own rule until the learning module is merged and joins it
      createCommerceModule(platform, { catalog: apis.catalog, settings: settings.commerce }),
  }),
} satisfies { [N in ModuleName]: ModuleDefinition<N, readonly ModuleName[]> };

const REMOTES: { [N in ModuleName]?: RemoteDefinition<N> } = {
  identity: {
    urlSetting: 'IDENTITY_URL',
    url: (settings) => settings.identity.IDENTITY_URL,
    client: identityHttpClient,
  },
};

export interface ComposedModules {
  modules: LecternModule[];
  /** Access-token keys: the identity module's own when it runs here, else the JWKS URL. */
  keys: KeySource | URL;
}

/**
 * Build the modules this process runs, each handed the APIs it requires: the other module's
 * in-process `api` when it runs here, else an HTTP client of the same interface (base URL from
 * the module's URL setting, a client_credentials token with the `internal` scope from identity).
 * `settings` defaults to the defaults (an empty environment); `lectern serve` passes the real ones.
 */
export function composeModules(
  platform: Platform,
  only?: readonly string[],
  settings: ModuleSettings = loadModuleSettings({}),
): ComposedModules {
  const wanted = new Set(only && only.length > 0 ? only : MODULE_NAMES);
  for (const name of wanted) {
    if (!(MODULE_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown module "${name}"; known modules: ${MODULE_NAMES.join(', ')}`);
    }
  }
  const { config } = platform;
  const identityUrl = settings.identity.IDENTITY_URL;

  let tokens: AccessTokenSource | undefined;
  const tokenSource = (): AccessTokenSource => {
    const tokenBase = identityUrl ?? config.publicUrl;
    if (!config.internalClientId || !config.internalClientSecret || !tokenBase) {
      throw new Error(
        'calling a module in another process needs INTERNAL_CLIENT_ID, INTERNAL_CLIENT_SECRET and IDENTITY_URL',
      );
    }
    tokens ??= clientCredentialsTokens({
      tokenUrl: `${tokenBase.replace(/\/+$/, '')}/oauth/token`,
      clientId: config.internalClientId,
      clientSecret: config.internalClientSecret,
      scope: INTERNAL_SCOPE,
      timeoutMs: config.internalTimeoutMs,
    });
    return tokens;
  };

  const apis: Partial<ModuleApis> = {};
  const remoteApi = <N extends ModuleName>(name: N, by: string): ModuleApis[N] => {
    const remote = REMOTES[name];
    const url = remote?.url(settings);
    if (!remote || !url) {
      throw new Error(
        `module "${by}" requires "${name}", which does not run in this process; ` +
          (remote ? `set ${remote.urlSetting}` : `run "${name}" here`),
      );
    }
    return remote.client(
      createInternalClient({
        baseUrl: url,
        tokens: tokenSource(),
        timeoutMs: config.internalTimeoutMs,
        retries: config.internalRetries,
      }),
    );
  };

  const modules: LecternModule[] = [];
  let identityApi: IdentityApi | undefined;
  for (const name of MODULE_NAMES) {
    if (!wanted.has(name)) continue;
    const definition = MODULES[name] as ModuleDefinition<typeof name, readonly ModuleName[]>;
    const required: Partial<ModuleApis> = {};
    for (const dependency of definition.requires) {
      // a module's factory runs once per process, so each remote API is built once per requirer
      Object.assign(required, { [dependency]: apis[dependency] ?? remoteApi(dependency, name) });
    }
    const module = definition.create(platform, {
      settings,
      apis: required as RequiredApis<readonly ModuleName[]>,
    });
    Object.assign(apis, { [name]: module.api });
    if (name === 'identity') identityApi = module.api as IdentityApi;
    modules.push(module);
  }

  const jwksUrl =
    config.jwksUrl ?? (identityUrl ? `${identityUrl.replace(/\/+$/, '')}/.well-known/jwks.json` : undefined);
  const keys = identityApi?.keys ?? (jwksUrl ? new URL(jwksUrl) : undefined);
  if (!keys) {
    throw new Error(
      'JWKS_URL or IDENTITY_URL must be set when the identity module does not run in this process',
    );
  }
  return { modules, keys };
}
