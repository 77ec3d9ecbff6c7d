import { type Kysely, sql } from 'kysely';
import type { AnalyticsTables } from './tables.js';

type Db = Kysely<AnalyticsTables>;

export interface ScoreModel {
  windowDays: number;
  minutesCap: number;
  interactionsCap: number;
}

/**
 * Replace every user's score with the one over the window ending on `windowEnd` (inclusive),
 * set-based: A = active days / window days, B = min(minutes, cap) / cap, C = min(interactions,
 * cap) / cap, S = A·B·C rounded to 12 places (so equal products tie exactly), and rank() by S:
 * tied users share a rank and the next rank skips (1, 2, 2, 4). Call inside a transaction.
 */
export async function recomputeScores(db: Db, windowEnd: string, model: ScoreModel): Promise<number> {
  const { windowDays, minutesCap, interactionsCap } = model;
  const end = sql`${windowEnd}::date`;
  const start = sql`(${windowEnd}::date - ${windowDays - 1}::int)`;
  await sql`delete from analytics.scores`.execute(db);
  const result = await sql`
    insert into analytics.scores
      (user_id, window_end, active_days, learning_minutes, interactions, a, b, c, score, rank)
    with act as (
      select user_id, count(*)::int as days from analytics.daily_actives
      where day between ${start} and ${end} and user_id is not null group by user_id
    ), ua as (
      select user_id, sum(learning_seconds)::float8 as seconds, sum(interactions)::int as inter
      from analytics.daily_user_activity where day between ${start} and ${end} group by user_id
    ), u as (
      select user_id, coalesce(act.days, 0) as days, coalesce(ua.seconds, 0) / 60.0 as minutes,
             coalesce(ua.inter, 0) as inter
      from act full join ua using (user_id)
    ), abc as (
      select user_id, days, minutes, inter,
             days::float8 / ${windowDays} as a,
             least(minutes, ${minutesCap}) / ${minutesCap}::float8 as b,
             least(inter, ${interactionsCap})::float8 / ${interactionsCap} as c
      from u
    ), s as (
      select *, round((a * b * c)::numeric, 12)::float8 as score from abc
    )
    select user_id, ${end}, days, minutes, inter, a, b, c, score, rank() over (order by score desc)
    from s`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

export async function scoreOf(db: Db, userId: string) {
  return db.selectFrom('analytics.scores').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function topScores(db: Db, limit: number) {
  return db
    .selectFrom('analytics.scores')
    .selectAll()
    .orderBy('rank')
    .orderBy('user_id')
    .limit(limit)
    .execute();
}
