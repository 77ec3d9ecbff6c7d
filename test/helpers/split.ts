import { sql } from 'kysely';
import { type IdentityApi, INTERNAL_SCOPE } from '../../src/modules/identity/index.js';
import { type ComposedModules, composeModules } from '../../src/modules/registry.js';
import { loadModuleSettings } from '../../src/modules/settings.js';
import { createDatabase } from '../../src/platform/db/database.js';
import { buildTestApp, type TestApp } from './app.js';

export interface ServiceClient {
  clientId: string;
  clientSecret: string;
}

/** Seed the first service's identity and register the client the second service calls it with. */
export async function registerServiceClient(first: ComposedModules | undefined): Promise<ServiceClient> {
  const identity = first?.modules.find((m) => m.name === 'identity') as
    | { api: IdentityApi; seed?: () => Promise<void> }
    | undefined;
  await identity?.seed?.();
  const client = await identity?.api.registerClient({
    name: 'commerce service',
    grantTypes: ['client_credentials'],
    scopes: [INTERNAL_SCOPE],
    confidential: true,
  });
  return { clientId: client?.clientId ?? '', clientSecret: client?.clientSecret ?? '' };
}

/**
 * A second service of a split deployment: these modules, on the first app's database through a
 * pool of their own (as a second process would open it), reaching the others at the URLs in
 * `settings` with the internal client's credentials.
 */
export async function startSecondService(
  first: TestApp,
  modules: readonly string[],
  settings: Record<string, string>,
  client: ServiceClient,
): Promise<TestApp> {
  const databaseUrl = process.env.DATABASE_URL;
  const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(
    first.platform.database.db,
  );
  const url = new URL(databaseUrl ?? '');
  url.pathname = `/${rows[0]?.name ?? ''}`;
  let there: ComposedModules | undefined;
  return buildTestApp(
    (platform) => {
      there = composeModules(platform, modules, loadModuleSettings(settings));
      return there.modules;
    },
    {
      env: { INTERNAL_CLIENT_ID: client.clientId, INTERNAL_CLIENT_SECRET: client.clientSecret },
      platform: { database: await createDatabase({ url: url.toString(), poolSize: 3 }) },
      keys: () => there?.keys ?? new URL('http://127.0.0.1/none'),
    },
  );
}
