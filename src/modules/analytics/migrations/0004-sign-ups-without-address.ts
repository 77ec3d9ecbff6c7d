import { type Kysely, sql } from 'kysely';

/**
 * A sign-up's raw event kept the account's address and name, which nothing here reads (reports
 * count sign-ups) and which outlived a closed account. New ones keep the user id alone; this
 * strips the ones kept before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    update analytics.events set props = props - 'email' - 'displayName'
    where kind = 'user_registered' and (props ? 'email' or props ? 'displayName')`.execute(db);
}

export async function down(): Promise<void> {
  // what was stripped is gone
}
