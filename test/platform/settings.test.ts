import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadAllSettings, loadModuleSettings, renderEnvExample } from '../../src/modules/settings.js';
import { ConfigError } from '../../src/platform/config.js';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadAllSettings(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('module settings', () => {
  it('gives each module its defaults on an empty environment', () => {
    const { config, settings } = loadAllSettings({});
    expect(config.port).toBe(3000);
    expect(settings.identity.IDENTITY_KEY_SECRET).toBeUndefined();
    expect(settings.catalog.CATALOG_DETAIL_CACHE_SECONDS).toBe(300);
    expect(settings.catalog.CATALOG_LIST_CACHE_SECONDS).toBe(60);
    expect(Object.isFrozen(settings.catalog)).toBe(true);
  });

  it('reads and converts each module’s values', () => {
    const settings = loadModuleSettings({
      IDENTITY_KEY_SECRET: 'k'.repeat(32),
      IDENTITY_URL: 'http://127.0.0.1:3001',
      ASSET_URL_SECRET: 'a'.repeat(40),
      CATALOG_LIST_CACHE_SECONDS: '15',
      PASSWORD_HASHES_AT_ONCE: '3',
    });
    expect(settings.identity.IDENTITY_KEY_SECRET).toBe('k'.repeat(32));
    expect(settings.identity.IDENTITY_URL).toBe('http://127.0.0.1:3001');
    expect(settings.catalog.ASSET_URL_SECRET).toBe('a'.repeat(40));
    expect(settings.catalog.CATALOG_LIST_CACHE_SECONDS).toBe(15);
    expect(settings.identity.PASSWORD_HASHES_AT_ONCE).toBe(3);
  });

  it('lists every bad value of the platform and every module at once, one line each, secrets hidden', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      IDENTITY_KEY_SECRET: 'short-secret-value',
      IDENTITY_URL: 'ftp://identity',
      ASSET_URL_SECRET: 'tiny',
      CATALOG_DETAIL_CACHE_SECONDS: 'five',
      CATALOG_LIST_CACHE_SECONDS: '0',
      PASSWORD_HASHES_AT_ONCE: '0',
    });
    expect(problems).toHaveLength(7);
    expect(problems[0]).toMatch(/^PORT: expected a whole number/);
    expect(problems).toContain('IDENTITY_KEY_SECRET: must not have fewer than 32 characters');
    expect(problems.some((p) => p.startsWith('IDENTITY_URL: '))).toBe(true);
    expect(problems).toContain('ASSET_URL_SECRET: must not have fewer than 32 characters');
    expect(problems.some((p) => p.startsWith('CATALOG_DETAIL_CACHE_SECONDS: expected a number'))).toBe(true);
    expect(problems).toContain('CATALOG_LIST_CACHE_SECONDS: must be >= 1');
    expect(problems).toContain('PASSWORD_HASHES_AT_ONCE: must be >= 1');
    expect(problems.join('\n')).not.toContain('short-secret-value');
  });

  it('keeps module settings out of the platform config', () => {
    const { config } = loadAllSettings({ IDENTITY_KEY_SECRET: 'k'.repeat(32) });
    expect(Object.keys(config)).not.toContain('identityKeySecret');
    expect(Object.keys(config)).not.toContain('assetUrlSecret');
  });

  it('the committed .env.example is the generated text (run scripts/env-example.ts)', async () => {
    const committed = await readFile(new URL('../../.env.example', import.meta.url), 'utf8');
    expect(committed).toBe(renderEnvExample());
    expect(committed).toContain('# IDENTITY_KEY_SECRET=');
    expect(committed).toContain('CATALOG_DETAIL_CACHE_SECONDS=300');
  });
});
