import { type Kysely, sql } from 'kysely';

/** When the owner was told their copy is ready (once, whatever retries the check makes). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table identity.data_exports add column ready_notified_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table identity.data_exports drop column ready_notified_at`.execute(db);
}
