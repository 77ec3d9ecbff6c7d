import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JSONWebKeySet, SignJWT } from 'jose';
import type { KeySource } from '../../src/platform/http/auth.js';

export interface TestTokens {
  keys: KeySource;
  /** A valid access token for a user with these roles (default: learner). */
  user(subject?: string, roles?: string[], claims?: Record<string, unknown>): Promise<string>;
  /** A client_credentials-style token with scopes. */
  client(clientId: string, scopes: string[]): Promise<string>;
  /** Sign arbitrary header/claims with the test key, for negative tests. */
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
}

/** Test signing keys until (and beside) the identity module: same shape of token it issues. */
export async function createTestTokens(issuer = 'lectern', audience = 'lectern-api'): Promise<TestTokens> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const kid = `test-${randomUUID()}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  const set: JSONWebKeySet = { keys: [jwk] };
  const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid, ...header })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(randomUUID())
      .sign(privateKey);
  return {
    keys: { keySet: () => Promise.resolve(set) },
    user: (subject = randomUUID(), roles = ['learner'], claims = {}) =>
      sign({ sub: subject, roles, ...claims }),
    client: (clientId, scopes) =>
      sign({ sub: clientId, client_id: clientId, token_use: 'client', scope: scopes.join(' ') }),
    sign,
  };
}
