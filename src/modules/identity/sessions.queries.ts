import { type ExpressionBuilder, type Insertable, sql } from 'kysely';
import type { IdentityDb } from './context.js';
import type { IdentityTables, RefreshTokenTable, SessionTable } from './tables.js';

export function insertSession(db: IdentityDb, row: Insertable<SessionTable>) {
  return db.insertInto('identity.sessions').values(row).returning('id').executeTakeFirstOrThrow();
}

/**
 * Whether the user had any session before, and one from this user agent (null matches null):
 * a sign-in is from a new device when the first is true and the second false.
 */
export async function deviceHistory(db: IdentityDb, userId: string, userAgent: string | null) {
  const sessionsOf = (eb: ExpressionBuilder<IdentityTables, never>) =>
    eb.selectFrom('identity.sessions').select(sql.lit(1).as('one')).where('user_id', '=', userId);
  const row = await db
    .selectNoFrom((eb) => [
      eb.exists(sessionsOf(eb)).as('seenAny'),
      eb
        .exists(sessionsOf(eb).where('user_agent', userAgent === null ? 'is' : '=', userAgent))
        .as('seenAgent'),
    ])
    .executeTakeFirstOrThrow();
  return { seenAny: Boolean(row.seenAny), seenAgent: Boolean(row.seenAgent) };
}

export function insertRefreshToken(db: IdentityDb, row: Insertable<RefreshTokenTable>) {
  return db.insertInto('identity.refresh_tokens').values(row).execute();
}

/** A refresh token with its session and user, whatever their state (rotation judges it). */
export function findRefreshToken(db: IdentityDb, tokenHash: string) {
  return db
    .selectFrom('identity.refresh_tokens as rt')
    .innerJoin('identity.sessions as s', 's.id', 'rt.session_id')
    .innerJoin('identity.users as u', 'u.id', 's.user_id')
    .select([
      'rt.id as tokenId',
      'rt.used_at as usedAt',
      'rt.expires_at as expiresAt',
      's.id as sessionId',
      's.client_id as clientId',
      's.scope as scope',
      's.amr as amr',
      's.auth_time as authTime',
      's.expires_at as sessionEnds',
      's.revoked_at as revokedAt',
      'u.id as userId',
      'u.roles as roles',
      'u.status as status',
    ])
    .where('rt.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/** An unused, unexpired refresh token of a live session. */
export function findLiveRefreshToken(db: IdentityDb, tokenHash: string, now: Date) {
  return db
    .selectFrom('identity.refresh_tokens as rt')
    .innerJoin('identity.sessions as s', 's.id', 'rt.session_id')
    .innerJoin('identity.users as u', 'u.id', 's.user_id')
    .select([
      's.id as sessionId',
      's.client_id as clientId',
      's.scope as scope',
      's.user_id as userId',
      'u.email as email',
      'u.status as status',
      'rt.created_at as issuedAt',
      'rt.expires_at as expiresAt',
    ])
    .where('rt.token_hash', '=', tokenHash)
    .where('rt.used_at', 'is', null)
    .where('rt.expires_at', '>', now)
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', now)
    .executeTakeFirst();
}

/** Spend a refresh token; undefined when another request spent it first. */
export function spendRefreshToken(db: IdentityDb, tokenId: string, now: Date) {
  return db
    .updateTable('identity.refresh_tokens')
    .set({ used_at: now })
    .where('id', '=', tokenId)
    .where('used_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
}

export function touchSession(db: IdentityDb, sessionId: string, now: Date) {
  return db.updateTable('identity.sessions').set({ last_used_at: now }).where('id', '=', sessionId).execute();
}

/** Revoke a live session; undefined when it was already revoked. */
export function markSessionRevoked(db: IdentityDb, sessionId: string, reason: string, now: Date) {
  return db
    .updateTable('identity.sessions')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
}

export function findSession(db: IdentityDb, sessionId: string) {
  return db
    .selectFrom('identity.sessions')
    .select(['id', 'user_id', 'client_id', 'revoked_at', 'expires_at'])
    .where('id', '=', sessionId)
    .executeTakeFirst();
}

export function liveSessionIds(db: IdentityDb, userId: string, except?: string) {
  let query = db
    .selectFrom('identity.sessions')
    .select('id')
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (except) query = query.where('id', '!=', except);
  return query.execute();
}

/** The live sessions (refresh-token families) a client holds for its users. */
export function liveSessionIdsOfClient(db: IdentityDb, clientId: string) {
  return db
    .selectFrom('identity.sessions')
    .select(['id', 'user_id'])
    .where('client_id', '=', clientId)
    .where('revoked_at', 'is', null)
    .execute();
}
