import { randomInt } from 'node:crypto';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import type { AuditLog } from './audit.service.js';
import { type Clock, epochSeconds, type IdentityDb, type RequestMeta } from './context.js';
import { type SecretBox, SecretBoxError, sha256 } from './crypto.js';
import { verifyPassword } from './passwords.js';
import type { LoginThrottle, ThrottleTicket } from './throttle.js';
import type { Tokens } from './tokens.service.js';
import { findUserById, type UserRow } from './users.queries.js';
import { IdentityErrors, MfaErrors } from './identity.errors.js';
import {
  advanceTotpStep,
  confirmTotp,
  deleteSecondFactors,
  findTotp,
  replaceRecoveryCodeHashes,
  replaceTotp,
  spendRecoveryCode,
  unusedRecoveryCodes,
} from './mfa.queries.js';

export const TOTP_ISSUER = 'Lectern';
export const RECOVERY_CODE_COUNT = 10;
/** One step either side of now, for clocks that drift (RFC 6238 §5.2). */
const TOTP_TOLERANCE_SECONDS = 30;

/** The TOTP library, loaded at its first use: most processes never enrol or check a code. */
const otp = () => import('otplib');

export interface SecondFactor {
  code?: string | undefined;
  recoveryCode?: string | undefined;
}

export type Mfa = ReturnType<typeof createMfa>;

// Crockford-like alphabet without look-alikes; 16 characters ≈ 80 bits, enough for a fast hash
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const normaliseRecoveryCode = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');

function newRecoveryCode(): string {
  const chars = Array.from({ length: 16 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join(
    '',
  );
  return chars.match(/.{4}/g)?.join('-') ?? chars;
}

/** TOTP (RFC 6238) second factor with one-time recovery codes. */
export function createMfa(deps: {
  db: IdentityDb;
  box: SecretBox;
  clock: Clock;
  audit: AuditLog;
  throttle: LoginThrottle;
  tokens: Tokens;
}) {
  const { db, box, clock, audit, throttle, tokens } = deps;
  const invalidCode = () =>
    AppError.validation(MfaErrors.codeInvalid, 'The code is not correct, has expired or was already used.', [
      { field: '/body/code', message: 'is not a valid code' },
    ]);

  /**
   * The stored TOTP secret, or a 503 when no configured key opens it (IDENTITY_KEY_SECRET changed
   * without the old one in IDENTITY_KEY_SECRET_PREVIOUS): the server's fault, not the caller's code,
   * and recovery codes (hashes, not sealed) still sign in.
   */
  const openSecret = (sealed: string): string => {
    try {
      return box.open(sealed);
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      throw new AppError(
        'unavailable',
        MfaErrors.secretUnavailable,
        'Two-factor codes cannot be checked now (a server key is missing); a recovery code still works.',
      );
    }
  };

  const totpRow = findTotp;

  /** The time step the code matches, or undefined; steps at or before `after` never match (no replay). */
  async function matchStep(secret: string, code: string, after: number | null): Promise<number | undefined> {
    try {
      const { verify } = await otp();
      const result = await verify({
        secret,
        token: code,
        epoch: epochSeconds(clock()),
        epochTolerance: TOTP_TOLERANCE_SECONDS,
        ...(after === null ? {} : { afterTimeStep: after }),
      });
      return result.valid && 'timeStep' in result ? result.timeStep : undefined;
    } catch {
      return undefined;
    }
  }

  async function replaceRecoveryCodes(trx: IdentityDb, userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await replaceRecoveryCodeHashes(
      trx,
      userId,
      codes.map((c) => sha256(normaliseRecoveryCode(c))),
    );
    return codes;
  }

  /** Check a TOTP code or a recovery code and spend it; throws when it does not match. */
  async function spendSecondFactor(
    userId: string,
    factor: SecondFactor,
    meta: RequestMeta,
  ): Promise<'otp' | 'recovery'> {
    if (factor.code !== undefined) {
      const row = await totpRow(db, userId);
      if (!row?.confirmed_at) throw invalidCode();
      const step = await matchStep(openSecret(row.secret), factor.code, row.last_used_step);
      if (step === undefined) throw invalidCode();
      // conditional: of two requests racing with one code, only one moves the step forward
      const moved = await advanceTotpStep(db, userId, step);
      if (!moved) throw invalidCode();
      return 'otp';
    }
    if (factor.recoveryCode !== undefined) {
      const used = await spendRecoveryCode(
        db,
        userId,
        sha256(normaliseRecoveryCode(factor.recoveryCode)),
        clock(),
      );
      if (!used) {
        throw AppError.validation(
          MfaErrors.codeInvalid,
          'The recovery code is not correct or was already used.',
          [{ field: '/body/recoveryCode', message: 'is not a valid recovery code' }],
        );
      }
      const remaining = await unusedRecoveryCodes(db, userId);
      await audit.record(db, {
        type: 'mfa.recovery_code_used',
        userId,
        meta,
        details: { remaining },
      });
      return 'recovery';
    }
    throw AppError.validation(
      MfaErrors.codeInvalid,
      'Send a code from your authenticator app or a recovery code.',
      [{ field: '/body/code', message: 'is required' }],
    );
  }

  /** Run the owner's proof behind the login throttle: a failed one counts like a failed sign-in. */
  async function throttled(user: UserRow, meta: RequestMeta, proof: () => Promise<unknown>): Promise<void> {
    const ticket = await throttle.check(user.email, meta.ip);
    try {
      await proof();
    } catch (err) {
      await throttle.fail(ticket);
      throw err;
    }
  }

  async function checkPassword(user: UserRow, password: string): Promise<void> {
    if (!(await verifyPassword(user.password_hash, password))) {
      throw AppError.forbidden(MfaErrors.reauthFailed, 'The password is not correct.');
    }
  }

  /**
   * Re-authentication for changes to the factors themselves: the password, or a current code.
   * Counted by the login throttle, so a stolen access token cannot be used to guess either.
   */
  async function reauthenticate(
    userId: string,
    proof: { password?: string | undefined } & SecondFactor,
    meta: RequestMeta,
  ) {
    const user = await findUserById(db, userId);
    if (!user) throw IdentityErrors.userNotFound();
    if (proof.password === undefined && proof.code === undefined && proof.recoveryCode === undefined) {
      throw AppError.validation(MfaErrors.reauthRequired, 'Confirm with your password or a current code.', [
        { field: '/body/password', message: 'password or code is required' },
      ]);
    }
    const { password } = proof;
    await throttled(user, meta, () =>
      password !== undefined ? checkPassword(user, password) : spendSecondFactor(userId, proof, meta),
    );
    return user;
  }

  /**
   * The owner's proof for an act that cannot be undone (closing the account): the password and,
   * while two-factor is on, a current code or a recovery code as well. Behind the login throttle
   * like every re-authentication; a missing factor is a 400 before anything is checked.
   */
  async function confirmOwner(user: UserRow, proof: { password: string } & SecondFactor, meta: RequestMeta) {
    const secondFactorOn = Boolean((await totpRow(db, user.id))?.confirmed_at);
    if (secondFactorOn && proof.code === undefined && proof.recoveryCode === undefined) {
      throw AppError.validation(
        MfaErrors.reauthRequired,
        'Two-factor is on: confirm with a current code too.',
        [{ field: '/body/code', message: 'code or recoveryCode is required' }],
      );
    }
    await throttled(user, meta, async () => {
      await checkPassword(user, proof.password);
      if (secondFactorOn) await spendSecondFactor(user.id, proof, meta);
    });
  }

  return {
    spendSecondFactor,
    confirmOwner,

    /** Count a failed second factor against the same buckets as a failed password. */
    async failed(ticket: ThrottleTicket, userId: string, meta: RequestMeta) {
      await throttle.fail(ticket);
      await audit.record(db, { type: 'mfa.failed', userId, meta });
    },

    async status(userId: string) {
      const row = await totpRow(db, userId);
      const remaining = await unusedRecoveryCodes(db, userId);
      return {
        totpEnabled: Boolean(row?.confirmed_at),
        enrolmentPending: row !== undefined && row.confirmed_at === null,
        recoveryCodesRemaining: row?.confirmed_at ? remaining : 0,
      };
    },

    /** Start (or restart) enrolment: a new secret, shown once as an otpauth:// URI for a QR code. */
    async startEnrolment(userId: string, password: string, meta: RequestMeta) {
      const user = await reauthenticate(userId, { password }, meta);
      const existing = await totpRow(db, userId);
      if (existing?.confirmed_at) {
        throw AppError.conflict(
          MfaErrors.alreadyEnabled,
          'Two-factor authentication is already on; turn it off first.',
        );
      }
      const { generateSecret, generateURI } = await otp();
      const secret = generateSecret();
      await inTransaction(db, async (trx) => {
        await replaceTotp(trx, userId, box.seal(secret));
        await audit.record(trx, { type: 'mfa.enrolment_started', userId, meta });
      });
      return { secret, otpauthUri: generateURI({ issuer: TOTP_ISSUER, label: user.email, secret }) };
    },

    /** Prove the app holds the secret; turns MFA on and hands out the recovery codes, once. */
    async confirmEnrolment(userId: string, code: string, meta: RequestMeta) {
      const row = await totpRow(db, userId);
      if (!row) throw AppError.conflict(MfaErrors.notEnrolling, 'Start enrolment first.');
      if (row.confirmed_at)
        throw AppError.conflict(MfaErrors.alreadyEnabled, 'Two-factor authentication is already on.');
      const step = await matchStep(openSecret(row.secret), code, null);
      if (step === undefined) throw invalidCode();
      const recoveryCodes = await inTransaction(db, async (trx) => {
        await confirmTotp(trx, userId, step, clock());
        await audit.record(trx, { type: 'mfa.enabled', userId, meta });
        return replaceRecoveryCodes(trx, userId);
      });
      return { recoveryCodes };
    },

    async disable(
      user: { id: string; sessionId?: string | undefined },
      proof: { password?: string | undefined } & SecondFactor,
      meta: RequestMeta,
    ) {
      const row = await totpRow(db, user.id);
      if (!row?.confirmed_at)
        throw AppError.conflict(MfaErrors.notEnabled, 'Two-factor authentication is not on.');
      await reauthenticate(user.id, proof, meta);
      const revoked = await inTransaction(db, async (trx) => {
        await deleteSecondFactors(trx, user.id);
        await audit.record(trx, { type: 'mfa.disabled', userId: user.id, meta });
        // a weaker account should not keep sessions someone else may hold
        return tokens.revokeAllSessions(trx, user.id, 'mfa_changed', { except: user.sessionId, meta });
      });
      await tokens.denySessions(revoked);
    },

    async regenerateRecoveryCodes(
      userId: string,
      proof: { password?: string | undefined } & SecondFactor,
      meta: RequestMeta,
    ) {
      const row = await totpRow(db, userId);
      if (!row?.confirmed_at)
        throw AppError.conflict(MfaErrors.notEnabled, 'Two-factor authentication is not on.');
      await reauthenticate(userId, proof, meta);
      const recoveryCodes = await inTransaction(db, async (trx) => {
        await audit.record(trx, { type: 'mfa.recovery_codes_regenerated', userId, meta });
        return replaceRecoveryCodes(trx, userId);
      });
      return { recoveryCodes };
    },
  };
}
