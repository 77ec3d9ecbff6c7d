import { type Kysely, sql } from 'kysely';

/**
 * The entitlements copy by user: a closed account's rows (`forgetRecipient`) and a user's data
 * export (`entitlementsPage`, keyset on `course_id`) are one range of this index instead of a
 * scan, as the primary key starts with the course (what fan-outs read by).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists entitlements_user_idx on notify.entitlements (user_id, course_id)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists notify.entitlements_user_idx`.execute(db);
}
