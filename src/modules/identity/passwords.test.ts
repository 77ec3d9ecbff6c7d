import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../platform/config.js';
import { AppError } from '../../platform/errors.js';
import { createSecretBox, SecretBoxError } from './crypto.js';
import { PasswordErrors } from './identity.errors.js';
import {
  checkPasswordPolicy,
  hashPassword,
  needsRehash,
  passwordHashLoad,
  setPasswordHashConcurrency,
  verifyPassword,
} from './passwords.js';

const codeOf = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : 'not-an-app-error';
  }
};
const policy =
  (password: string, email = 'ada@example.com') =>
  () => {
    checkPasswordPolicy(password, { email, field: '/body/password' });
  };

describe('password policy', () => {
  it('accepts a long uncommon passphrase', () => {
    expect(codeOf(policy('plum-harbour-kettle-91'))).toBeUndefined();
  });

  it('refuses each broken rule with its own stable code', () => {
    expect(codeOf(policy('short1!'))).toBe(PasswordErrors.tooShort);
    expect(codeOf(policy('x'.repeat(129)))).toBe(PasswordErrors.tooLong);
    expect(codeOf(policy('password1'))).toBe(PasswordErrors.tooCommon);
    // the list is matched case-insensitively
    expect(codeOf(policy('PassWord123'))).toBe(PasswordErrors.tooCommon);
    expect(codeOf(policy('ada@example.com'))).toBe(PasswordErrors.containsEmail);
    expect(codeOf(policy('lovelace-2024-ok', 'lovelace@example.com'))).toBe(PasswordErrors.containsEmail);
  });

  it('counts characters, not UTF-16 units, at the limits', () => {
    // 8 emoji are 16 UTF-16 units but 8 characters: allowed; 7 are too short
    expect(codeOf(policy('🔑'.repeat(8)))).toBeUndefined();
    expect(codeOf(policy('🔑'.repeat(7)))).toBe(PasswordErrors.tooShort);
    expect(codeOf(policy('密'.repeat(128)))).toBeUndefined();
  });

  it('names the offending field in the error', () => {
    try {
      checkPasswordPolicy('123', { email: 'a@b.co', field: '/body/newPassword' });
      expect.unreachable();
    } catch (err) {
      expect((err as AppError).details.fields).toEqual([
        { field: '/body/newPassword', message: expect.any(String) },
      ]);
    }
  });
});

describe('password hashing', () => {
  it('uses argon2id with the OWASP parameters and verifies', async () => {
    const stored = await hashPassword('plum-harbour-kettle-91');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(needsRehash(stored)).toBe(false);
    expect(await verifyPassword(stored, 'plum-harbour-kettle-91')).toBe(true);
    expect(await verifyPassword(stored, 'plum-harbour-kettle-92')).toBe(false);
    // Unicode-normalised: the composed and decomposed spellings are one password
    const accented = await hashPassword('caf\u00e9-au-lait-42');
    expect(await verifyPassword(accented, 'cafe\u0301-au-lait-42')).toBe(true);
  });

  it('asks for a rehash of weaker hashes and survives garbage', async () => {
    expect(needsRehash('$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA')).toBe(true);
    expect(needsRehash('$2b$10$bcrypt')).toBe(true);
    expect(await verifyPassword('not a hash', 'anything')).toBe(false);
  });

  it('runs at most the configured number of hashes at once; the rest wait and all finish', async () => {
    setPasswordHashConcurrency(2);
    try {
      let peak = 0;
      const watch = setInterval(() => {
        peak = Math.max(peak, passwordHashLoad().running);
      }, 1);
      const passwords = Array.from({ length: 6 }, (_, i) => `plum-harbour-kettle-${i}`);
      const hashes = Promise.all(passwords.map((p) => hashPassword(p)));
      // all six asked at once: two run, four wait their turn
      expect(passwordHashLoad()).toEqual({ running: 2, waiting: 4 });
      const stored = await hashes;
      const verified = await Promise.all(stored.map((h, i) => verifyPassword(h, passwords[i] ?? '')));
      clearInterval(watch);
      expect(verified).toEqual([true, true, true, true, true, true]);
      expect(peak).toBe(2);
      expect(passwordHashLoad()).toEqual({ running: 0, waiting: 0 });
    } finally {
      setPasswordHashConcurrency(availableParallelism());
    }
  });

  it('frees the slot of a verification that fails', async () => {
    setPasswordHashConcurrency(1);
    try {
      expect(await verifyPassword('not a hash', 'anything')).toBe(false);
      expect(passwordHashLoad()).toEqual({ running: 0, waiting: 0 });
      expect(
        await verifyPassword(await hashPassword('plum-harbour-kettle-91'), 'plum-harbour-kettle-91'),
      ).toBe(true);
    } finally {
      setPasswordHashConcurrency(availableParallelism());
    }
  });
});

describe('secret box', () => {
  it('seals with AES-GCM and opens only with the same secret', () => {
    const box = createSecretBox('one secret');
    const sealed = box.seal('private key material');
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(sealed).not.toContain('private');
    expect(box.open(sealed)).toBe('private key material');
    expect(() => createSecretBox('another secret').open(sealed)).toThrow(SecretBoxError);
    expect(() => createSecretBox(undefined).open(sealed)).toThrow(SecretBoxError);
    // tampering is detected by the tag
    const parts = sealed.split('.');
    const body = Buffer.from(parts[2]!, 'base64url');
    body[0] = (body[0]! + 1) % 256;
    parts[2] = body.toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow(SecretBoxError);
  });

  it('opens v1 values sealed before it used the platform code, and only with their secret', () => {
    // made by the secret box before it used the platform primitive; such values sit in databases
    const legacy =
      'v1.U1wsQ3aUe6X_Y_Cr.MmhGtUqlI9Chw2_bqlditH4-D_uB36fQJr3Tj4qFjk_ZpVjGPUw.0h0AtAwtYoTVA5P_WsDMIA';
    expect(createSecretBox('legacy-secret-for-tests').open(legacy)).toBe(
      '-----BEGIN PRIVATE KEY----- 私钥 ✓',
    );
    expect(() => createSecretBox('another secret').open(legacy)).toThrow(SecretBoxError);
    expect(() => createSecretBox(undefined).open(legacy)).toThrow(SecretBoxError);
    expect(createSecretBox('legacy-secret-for-tests').open('plain.SkJTV1kzRFBFSFBLM1BYUA')).toBe(
      'JBSWY3DPEHPK3PXP',
    );
    expect(() => createSecretBox('x').open('v2.a.b.c')).toThrow(SecretBoxError);
  });

  it('stores plainly without a secret and still opens those values once a secret is set', () => {
    const plain = createSecretBox(undefined).seal('x');
    expect(plain.startsWith('plain.')).toBe(true);
    expect(createSecretBox('later').open(plain)).toBe('x');
  });

  describe('after a rotation', () => {
    const older = 'rotation-test-secret-older-0000000000';
    const previous = 'rotation-test-secret-previous-0000000';
    const current = 'rotation-test-secret-current-00000000';
    const rotated = createSecretBox(current, [older, previous]);

    it('seals under the current secret only, and opens what the current or a previous one sealed', () => {
      const underPrevious = createSecretBox(previous).seal('JBSWY3DPEHPK3PXP');
      const underOlder = createSecretBox(older).seal('older value');
      expect(rotated.open(underPrevious)).toBe('JBSWY3DPEHPK3PXP');
      expect(rotated.open(underOlder)).toBe('older value');
      expect(rotated.needsReseal(underPrevious)).toBe(true);
      expect(rotated.needsReseal(underOlder)).toBe(true);

      const resealed = rotated.seal(rotated.open(underPrevious));
      expect(resealed.startsWith('v1.')).toBe(true);
      expect(rotated.needsReseal(resealed)).toBe(false);
      expect(createSecretBox(current).open(resealed)).toBe('JBSWY3DPEHPK3PXP');
      expect(() => createSecretBox(previous).open(resealed)).toThrow(SecretBoxError);
      // a box without previous secrets is the box once the rotation is over
      expect(() => createSecretBox(current).open(underPrevious)).toThrow(SecretBoxError);
      expect(rotated.rotating).toBe(true);
      expect(createSecretBox(current).rotating).toBe(false);
    });

    it('opens v1 values from before the rotation support under a previous secret', () => {
      const legacy =
        'v1.U1wsQ3aUe6X_Y_Cr.MmhGtUqlI9Chw2_bqlditH4-D_uB36fQJr3Tj4qFjk_ZpVjGPUw.0h0AtAwtYoTVA5P_WsDMIA';
      const box = createSecretBox(current, ['legacy-secret-for-tests']);
      expect(box.open(legacy)).toBe('-----BEGIN PRIVATE KEY----- 私钥 ✓');
      expect(box.needsReseal(legacy)).toBe(true);
    });

    it('refuses a value no configured secret opens, and has nothing to reseal in it', () => {
      const elsewhere = createSecretBox('rotation-test-secret-unknown-0000000').seal('x');
      expect(() => rotated.open(elsewhere)).toThrow(SecretBoxError);
      expect(rotated.needsReseal(elsewhere)).toBe(false);
      // tampered under a previous secret: the tag refuses it with every key
      const parts = createSecretBox(previous).seal('private key material').split('.');
      const body = Buffer.from(parts[2]!, 'base64url');
      body[0] = (body[0]! + 1) % 256;
      parts[2] = body.toString('base64url');
      expect(() => rotated.open(parts.join('.'))).toThrow(SecretBoxError);
      expect(rotated.needsReseal(parts.join('.'))).toBe(false);
      expect(() => rotated.open('v2.a.b.c')).toThrow(SecretBoxError);
      expect(rotated.needsReseal('v2.a.b.c')).toBe(false);
    });

    it('reseals values stored plain once a secret is set, and nothing without one', () => {
      const plain = createSecretBox(undefined).seal('JBSWY3DPEHPK3PXP');
      expect(createSecretBox(undefined).needsReseal(plain)).toBe(false);
      expect(createSecretBox(current).needsReseal(plain)).toBe(true);
      expect(rotated.needsReseal(plain)).toBe(true);
      expect(rotated.open(plain)).toBe('JBSWY3DPEHPK3PXP');
      expect(createSecretBox(current).needsReseal(createSecretBox(current).seal('x'))).toBe(false);
    });

    it('refuses previous secrets without a current one, naming the settings and no secret', () => {
      let error: unknown;
      try {
        createSecretBox(undefined, [previous]);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toMatch(/IDENTITY_KEY_SECRET_PREVIOUS is set but IDENTITY_KEY_SECRET is not/);
      expect(message).not.toContain(previous);
      expect(createSecretBox(undefined, []).encrypting).toBe(false);
    });
  });
});
