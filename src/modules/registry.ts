import type { KeySource } from '../platform/http/auth.js';
import {
  clientCredentialsTokens,
  createInternalClient,
  type AccessTokenSource,
  type InternalClient,
} from '../platform/http/internal-client.js';
import type { LecternModule, Platform } from '../platform/module.js';
import {
  CATALOG_REQUIRES,
  type CatalogApi,
  catalogHttpClient,
  createCatalogModule,
  type EntitlementCheck,
} from './catalog/index.js';
import { COMMERCE_REQUIRES, type CommerceApi, createCommerceModule } from './commerce/index.js';
import { COMMUNITY_REQUIRES, type CommunityApi, createCommunityModule } from './community/index.js';
import {
  createIdentityModule,
  type IdentityApi,
  type IdentityDirectory,
  identityHttpClient,
  INTERNAL_SCOPE,
} from './identity/index.js';
import {
  createLearningModule,
  LEARNING_REQUIRES,
  type LearningApi,
  learningHttpClient,
} from './learning/index.js';
import { createNotifyModule, NOTIFY_REQUIRES, type NotifyApi } from './notify/index.js';
import { ANALYTICS_REQUIRES, type AnalyticsApi, createAnalyticsModule } from './analytics/index.js';
import { loadModuleSettings, type ModuleSettings } from './settings.js';

/** Every module, in dependency order (a module comes after the modules it requires). */
export const MODULE_NAMES = [
  'identity',
  'catalog',
  'learning',
  'community',
  'commerce',
  'notify',
  'analytics',
] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];

/** The API each module offers the others: the same interface in-process and over HTTP. */
export interface ModuleApis {
  identity: IdentityDirectory;
  catalog: CatalogApi;
  learning: LearningApi;
  community: CommunityApi;
  commerce: CommerceApi;
  notify: NotifyApi;
  analytics: AnalyticsApi;
}

/** The APIs a module declared in `requires`, handed to its factory. */
export type RequiredApis<R extends readonly ModuleName[]> = { readonly [K in R[number]]: ModuleApis[K] };

export interface ModuleDefinition<N extends ModuleName, R extends readonly ModuleName[]> {
  /** Modules whose API this one calls; in-process when they run here, else over HTTP. */
  requires: R;
  create(
    platform: Platform,
    context: { settings: ModuleSettings; apis: RequiredApis<R>; context: CompositionContext },
  ): LecternModule & { api: ModuleApis[N] };
}

/** How other processes reach a module's API when it runs elsewhere. */
export interface RemoteDefinition<N extends ModuleName> {
  /** The setting holding the module's base URL, e.g. IDENTITY_URL. */
  urlSetting: string;
  url(settings: ModuleSettings): string | undefined;
  client(http: InternalClient): ModuleApis[N];
}

/**
 * Hooks between modules of one process that cannot be plain `requires` without a cycle: the
 * catalog (built first) asks learning whether a user may open a paid lesson. Until learning is
 * built here the answer is no; when learning runs elsewhere (LEARNING_URL), it is asked over HTTP.
 */
export interface CompositionContext {
  entitlements: EntitlementCheck & { bind(check: EntitlementCheck): void };
}

function lateEntitlements(): CompositionContext['entitlements'] {
  let bound: EntitlementCheck | undefined;
  return {
    bind: (check) => {
      bound = check;
    },
    canOpen: (userId, courseId) => (bound ? bound.canOpen(userId, courseId) : Promise.resolve(false)),
  };
}

const defineModule = <N extends ModuleName, R extends readonly ModuleName[]>(
  definition: ModuleDefinition<N, R>,
) => definition;

const MODULES = {
  identity: defineModule<'identity', readonly []>({
    requires: [],
    create: (platform, { settings }) =>
      createIdentityModule(platform, {
        keyEncryptionSecret: settings.identity.IDENTITY_KEY_SECRET,
        previousKeyEncryptionSecrets: settings.identity.IDENTITY_KEY_SECRET_PREVIOUS,
        passwordHashesAtOnce: settings.identity.PASSWORD_HASHES_AT_ONCE,
        // every module writes its part of a copy of a user's data, wherever it runs
        dataExportParts: MODULE_NAMES,
      }),
  }),
  catalog: defineModule<'catalog', typeof CATALOG_REQUIRES>({
    requires: CATALOG_REQUIRES,
    create: (platform, { settings, apis, context }) =>
      createCatalogModule(platform, {
        assetUrlSecret: settings.catalog.ASSET_URL_SECRET,
        cacheTtl: {
          detailSeconds: settings.catalog.CATALOG_DETAIL_CACHE_SECONDS,
          listSeconds: settings.catalog.CATALOG_LIST_CACHE_SECONDS,
        },
        identity: apis.identity,
        entitlements: context.entitlements,
      }),
  }),
  learning: defineModule<'learning', typeof LEARNING_REQUIRES>({
    requires: LEARNING_REQUIRES,
    create: (platform, { settings, apis, context }) => {
      const learning = createLearningModule(platform, {
        catalog: apis.catalog,
        identity: apis.identity,
        contentUrlSecret: settings.learning.LEARNING_CONTENT_URL_SECRET,
        contentUrlSeconds: settings.learning.LEARNING_CONTENT_URL_SECONDS,
        accessCacheSeconds: settings.learning.LEARNING_ACCESS_CACHE_SECONDS,
        progressIntervalSeconds: settings.learning.LEARNING_PROGRESS_INTERVAL_SECONDS,
        timeCapSeconds: settings.learning.LEARNING_TIME_CAP_SECONDS,
      });
      // the catalog was built first; from now on its paid-lesson reads ask learning
      context.entitlements.bind(learning);
      return learning;
    },
  }),
  community: defineModule<'community', typeof COMMUNITY_REQUIRES>({
    requires: COMMUNITY_REQUIRES,
    create: (platform, { settings, apis }) =>
      createCommunityModule(platform, {
        catalog: apis.catalog,
        learning: apis.learning,
        settings: settings.community,
      }),
  }),
  commerce: defineModule<'commerce', typeof COMMERCE_REQUIRES>({
    requires: COMMERCE_REQUIRES,
    create: (platform, { settings, apis }) =>
      createCommerceModule(platform, {
        catalog: apis.catalog,
        entitlements: apis.learning,
        learning: apis.learning,
        settings: settings.commerce,
      }),
  }),
  notify: defineModule<'notify', typeof NOTIFY_REQUIRES>({
    requires: NOTIFY_REQUIRES,
    create: (platform, { settings, apis }) =>
      createNotifyModule(platform, { settings: settings.notify, identity: apis.identity }),
  }),
  analytics: defineModule<'analytics', typeof ANALYTICS_REQUIRES>({
    requires: ANALYTICS_REQUIRES,
    create: (platform, { settings }) => createAnalyticsModule(platform, { settings: settings.analytics }),
  }),
} satisfies { [N in ModuleName]: ModuleDefinition<N, readonly ModuleName[]> };

const REMOTES: { [N in ModuleName]?: RemoteDefinition<N> } = {
  identity: {
    urlSetting: 'IDENTITY_URL',
    url: (settings) => settings.identity.IDENTITY_URL,
    client: identityHttpClient,
  },
  catalog: {
    urlSetting: 'CATALOG_URL',
    url: (settings) => settings.catalog.CATALOG_URL,
    client: catalogHttpClient,
  },
  learning: {
    urlSetting: 'LEARNING_URL',
    url: (settings) => settings.learning.LEARNING_URL,
    client: learningHttpClient,
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
        breaker: { failures: config.internalBreakerFailures, halfOpenAfterMs: config.internalBreakerResetMs },
      }),
    );
  };

  const modules: LecternModule[] = [];
  const context: CompositionContext = { entitlements: lateEntitlements() };
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
      context,
    });
    Object.assign(apis, { [name]: module.api });
    if (name === 'identity') identityApi = module.api as IdentityApi;
    modules.push(module);
  }

  // the catalog runs here, learning elsewhere: its paid-lesson reads ask learning over HTTP
  // (built on first use, so a catalog that never serves a paid lesson needs no client credentials)
  if (wanted.has('catalog') && !wanted.has('learning') && REMOTES.learning?.url(settings)) {
    let remote: LearningApi | undefined;
    context.entitlements.bind({
      canOpen: (userId, courseId) => (remote ??= remoteApi('learning', 'catalog')).canOpen(userId, courseId),
    });
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
