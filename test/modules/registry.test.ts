import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeModules } from '../../src/modules/registry.js';
import { loadModuleSettings } from '../../src/modules/settings.js';
import { loadConfig } from '../../src/platform/config.js';
import { createInProcessBus } from '../../src/platform/messaging/in-process-bus.js';
import { createPlatform, type RunningPlatform } from '../../src/platform/platform.js';
import { freshDatabase } from '../helpers/database.js';

// Composition only: which modules run here and what each is handed; nothing is served. The
// platforms built by withConfig share the one database and are not closed separately.
let platform: RunningPlatform;
const withConfig = async (env: Record<string, string>) =>
  createPlatform(loadConfig({ LOG_LEVEL: 'silent', ...env }), {
    database: platform.database,
    bus: createInProcessBus(),
  });

beforeAll(async () => {
  platform = await createPlatform(loadConfig({ LOG_LEVEL: 'silent' }), {
    database: await freshDatabase(),
    bus: createInProcessBus(),
  });
});
afterAll(async () => {
  await platform.close();
});

describe('module composition', () => {
  it('runs every module in one process, in dependency order, with identity’s own keys', () => {
    const composed = composeModules(platform);
    expect(composed.modules.map((m) => m.name)).toEqual([
      'identity',
      'catalog',
      'learning',
      'community',
      'commerce',
      'notify',
      'analytics',
    ]);
    expect(composed.keys).not.toBeInstanceOf(URL);
  });

  it('refuses a module whose required module runs elsewhere without a way to reach it', () => {
    expect(() => composeModules(platform, ['catalog'])).toThrow(
      'module "catalog" requires "identity", which does not run in this process; set IDENTITY_URL',
    );
  });

  it('needs the internal client credentials to call identity over HTTP', () => {
    const settings = loadModuleSettings({ IDENTITY_URL: 'http://127.0.0.1:3001' });
    expect(() => composeModules(platform, ['catalog'], settings)).toThrow(/INTERNAL_CLIENT_ID/);
  });

  it('hands the catalog an HTTP client and takes the JWKS from IDENTITY_URL when identity is elsewhere', async () => {
    const split = await withConfig({ INTERNAL_CLIENT_ID: 'svc', INTERNAL_CLIENT_SECRET: 'secret' });
    const settings = loadModuleSettings({ IDENTITY_URL: 'http://127.0.0.1:3001/' });
    const composed = composeModules(split, ['catalog'], settings);
    expect(composed.modules.map((m) => m.name)).toEqual(['catalog']);
    expect(composed.keys).toBeInstanceOf(URL);
    expect((composed.keys as URL).href).toBe('http://127.0.0.1:3001/.well-known/jwks.json');
  });

  it('refuses an unknown module name', () => {
    expect(() => composeModules(platform, ['billing'])).toThrow(/unknown module "billing"/);
  });
});
