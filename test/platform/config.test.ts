import { describe, expect, it } from 'vitest';
import { ConfigError, describeSettings, loadConfig } from '../../src/platform/config.js';

describe('configuration', () => {
  it('uses the documented defaults on an empty environment', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.corsOrigins).toEqual(['*']);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('honours PORT and HOST so instances can run side by side', () => {
    const config = loadConfig({ PORT: '3101', HOST: '127.0.0.1' });
    expect(config.port).toBe(3101);
    expect(config.host).toBe('127.0.0.1');
  });

  it('takes the token issuer from PUBLIC_URL, else the local address, unless JWT_ISSUER is set', () => {
    expect(loadConfig({}).jwtIssuer).toBe('http://localhost:3000');
    expect(loadConfig({ PORT: '3101' }).jwtIssuer).toBe('http://localhost:3101');
    // the same form as the metadata's endpoint URLs, which drop a trailing slash
    expect(loadConfig({ PUBLIC_URL: 'https://api.example.com/' }).jwtIssuer).toBe('https://api.example.com');
    expect(loadConfig({ PUBLIC_URL: 'https://api.example.com', JWT_ISSUER: 'urn:lectern' }).jwtIssuer).toBe(
      'urn:lectern',
    );
  });

  it('reads TRUST_PROXY as off, a number of proxies (true: one), or proxy addresses and ranges', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, loopback,fd00::/8, 192.0.2.1' }).trustProxy).toBe(
      '10.0.0.0/8,loopback,fd00::/8,192.0.2.1',
    );
    for (const bad of ['maybe', '10.0.0.0/33', 'fd00::/129', '10.0.0.1/8/8', '17', '-1', '10.0.0.0/8,,']) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY/);
    }
  });

  it('lists every bad value at once, one clear line each, without echoing secrets', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://u:secretpw@h/db', SEED_DEMO: 'maybe' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/PORT: expected a whole number/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL: expected a postgres or postgresql URL/);
    expect(problems.join('\n')).toMatch(/SEED_DEMO: expected true or false/);
    expect((error as Error).message).not.toContain('secretpw');
  });

  it('documents every setting in .env.example', async () => {
    const { readFile } = await import('node:fs/promises');
    const example = await readFile(new URL('../../.env.example', import.meta.url), 'utf8');
    for (const setting of describeSettings()) expect(example).toContain(`${setting.env}=`);
  });
});
