import { type Kysely, sql } from 'kysely';

/** A `change_email` token carries the address it confirms. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table identity.one_time_tokens add column new_email text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from identity.one_time_tokens where purpose = 'change_email'`.execute(db);
  await sql`alter table identity.one_time_tokens drop column new_email`.execute(db);
}
