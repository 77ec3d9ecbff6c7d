import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ProviderConfigError } from './provider.errors.js';

/** Environment values cannot hold newlines everywhere, so `\n` written out stands for one. */
const unescape = (text: string): string => text.replace(/\\n/g, '\n').trim();

const isPem = (text: string): boolean => text.startsWith('-----BEGIN ');

/**
 * A private key from PEM (PKCS#1 or PKCS#8) or a bare base64 body as providers' consoles show it
 * (PKCS#8 for WeChat Pay, PKCS#1 or PKCS#8 for Alipay). The error never contains the key.
 */
export function readPrivateKey(setting: string, text: string): KeyObject {
  const value = unescape(text);
  try {
    if (isPem(value)) return createPrivateKey(value);
    const der = Buffer.from(value, 'base64');
    try {
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch {
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs1' });
    }
  } catch {
    throw new ProviderConfigError(`${setting}: not a private key in PEM or base64 DER`);
  }
}

/** A public key from PEM (SPKI, PKCS#1 or an X.509 certificate) or a bare base64 SPKI body. */
export function readPublicKey(setting: string, text: string): KeyObject {
  const value = unescape(text);
  try {
    if (isPem(value)) return createPublicKey(value);
    return createPublicKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new ProviderConfigError(`${setting}: not a public key or certificate in PEM or base64 DER`);
  }
}

/** PEM text of a key, for libraries that take strings. */
export const privatePem = (key: KeyObject): string => key.export({ format: 'pem', type: 'pkcs8' }).toString();
export const publicPem = (key: KeyObject): string => key.export({ format: 'pem', type: 'spki' }).toString();
