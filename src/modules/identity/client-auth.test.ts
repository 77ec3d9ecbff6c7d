// Client authentication parsing (RFC 6749 §2.3.1), without a server: only the header matters.
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { clientCredentials, parseForm } from './oauth.routes.js';
import { OAuthError } from './oauth.service.js';

const withAuthorization = (authorization?: string) =>
  ({ headers: authorization === undefined ? {} : { authorization } }) as FastifyRequest;
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
/** What a conforming client sends: each part form-urlencoded, then joined and base64-encoded. */
const basic = (id: string, secret: string) => {
  const enc = (s: string) => new URLSearchParams({ s }).toString().slice(2);
  return `Basic ${base64(`${enc(id)}:${enc(secret)}`)}`;
};

function refusal(authorization: string | undefined, body: Record<string, string> = {}): OAuthError {
  try {
    clientCredentials(withAuthorization(authorization), body);
  } catch (err) {
    if (err instanceof OAuthError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('client credentials', () => {
  it('form-decodes id and secret from HTTP Basic, so a colon, plus or space in them survives', () => {
    const secret = 'a:b+c d%e/é';
    expect(clientCredentials(withAuthorization(basic('cl one', secret)), {})).toEqual({
      clientId: 'cl one',
      clientSecret: secret,
      method: 'client_secret_basic',
    });
    // the scheme name is case-insensitive (RFC 9110 §11.1)
    expect(clientCredentials(withAuthorization(basic('id', 's').replace('Basic', 'bAsIc')), {})).toEqual({
      clientId: 'id',
      clientSecret: 's',
      method: 'client_secret_basic',
    });
  });

  it('takes the body when there is no Authorization header', () => {
    expect(clientCredentials(withAuthorization(), { client_id: 'a', client_secret: 'b' })).toEqual({
      clientId: 'a',
      clientSecret: 'b',
      method: 'client_secret_post',
    });
    expect(clientCredentials(withAuthorization(), { client_id: 'a' })).toEqual({
      clientId: 'a',
      method: 'none',
    });
  });

  it('answers 401 invalid_client with a Basic challenge to a header that is not usable Basic', () => {
    for (const header of [
      'Bearer abc',
      'Basic',
      'Basic !!!',
      `Basic ${base64('no-colon')}`,
      `Basic ${base64('id:%zz')}`, // not form-encoding
    ]) {
      const e = refusal(header);
      expect(e.error, header).toBe('invalid_client');
      expect(e.status, header).toBe(401);
      expect(e.headers['www-authenticate'], header).toMatch(/^Basic /);
    }
  });

  it('refuses two methods at once and a body client_id that differs from the header', () => {
    expect(refusal(basic('id', 's'), { client_secret: 's' }).error).toBe('invalid_request');
    expect(refusal(basic('id', 's'), { client_id: 'other' }).error).toBe('invalid_request');
    expect(clientCredentials(withAuthorization(basic('id', 's')), { client_id: 'id' }).clientId).toBe('id');
  });
});

describe('OAuth form bodies', () => {
  it('decodes the form and refuses a repeated parameter or a NUL character', () => {
    expect(parseForm('grant_type=client_credentials&scope=a+b')).toEqual({
      grant_type: 'client_credentials',
      scope: 'a b',
    });
    expect(() => parseForm('scope=a&scope=b')).toThrow(/twice/);
    expect(() => parseForm('scope=a%00')).toThrow(OAuthError);
  });
});
