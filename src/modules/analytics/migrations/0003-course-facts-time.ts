import { type Kysely, sql } from 'kysely';

/**
 * The time of the catalog event a course's copy was last taken from, so an older event that
 * arrives after a newer one (a handler's failure sends it again later) cannot put back an older
 * status, category or tags. Rows copied before this have none and take the next event as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table analytics.courses add column facts_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table analytics.courses drop column if exists facts_at`.execute(db);
}
