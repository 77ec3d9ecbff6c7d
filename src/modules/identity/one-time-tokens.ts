import { AppError } from '../../platform/errors.js';
import { addSeconds, type Clock, type IdentityDb } from './context.js';
import { randomToken, sha256 } from './crypto.js';
import {
  findOneTimeToken,
  insertOneTimeToken,
  spendOneTimeToken,
  spendOutstandingTokens,
} from './one-time-tokens.queries.js';
import type { OneTimeTokenPurpose } from './tables.js';
import { OneTimeTokenErrors } from './identity.errors.js';

export const ONE_TIME_TOKEN_TTL: Record<OneTimeTokenPurpose, number> = {
  verify_email: 24 * 3600,
  reset_password: 30 * 60,
  change_email: 24 * 3600,
};

/**
 * Single-use expiring tokens mailed to the user (email verification, password reset). Only the
 * sha256 is stored; the conditional update in `consume` makes a token usable exactly once even
 * when two requests race.
 */
export function createOneTimeTokens(clock: Clock) {
  const field = '/body/token';
  const invalid = () =>
    AppError.validation(OneTimeTokenErrors.invalid, 'This link or code is not valid or was already used.', [
      { field, message: 'is not valid or was already used' },
    ]);

  async function peek(db: IdentityDb, token: string, purpose: OneTimeTokenPurpose) {
    const row = await findOneTimeToken(db, sha256(token), purpose);
    if (!row || row.used_at !== null) throw invalid();
    if (row.expires_at <= clock()) {
      throw AppError.validation(
        OneTimeTokenErrors.expired,
        'This link or code has expired; ask for a new one.',
        [{ field, message: 'has expired' }],
      );
    }
    return row;
  }

  async function consumeRow(db: IdentityDb, token: string, purpose: OneTimeTokenPurpose) {
    const row = await peek(db, token, purpose);
    const spent = await spendOneTimeToken(db, row.id, clock());
    if (!spent) throw invalid();
    return spent;
  }

  return {
    /** `newEmail`: the address a `change_email` token confirms. */
    async issue(db: IdentityDb, userId: string, purpose: OneTimeTokenPurpose, newEmail?: string) {
      const token = randomToken();
      const expiresAt = addSeconds(clock(), ONE_TIME_TOKEN_TTL[purpose]);
      await insertOneTimeToken(db, {
        user_id: userId,
        purpose,
        token_hash: sha256(token),
        expires_at: expiresAt,
        new_email: newEmail ?? null,
      });
      return { token, expiresAt };
    },

    /** Check without spending it, so a refused new password leaves the reset link usable. */
    peek,

    /** The answer for a token that exists but must not be used. */
    invalid,

    async consume(db: IdentityDb, token: string, purpose: OneTimeTokenPurpose) {
      return (await consumeRow(db, token, purpose)).user_id;
    },

    /** `consume`, with what the token carries (`new_email`). */
    consumeRow,

    /** A new reset link makes the older ones worthless. */
    async revokeOutstanding(db: IdentityDb, userId: string, purpose: OneTimeTokenPurpose) {
      await spendOutstandingTokens(db, userId, purpose, clock());
    },
  };
}

export type OneTimeTokens = ReturnType<typeof createOneTimeTokens>;
