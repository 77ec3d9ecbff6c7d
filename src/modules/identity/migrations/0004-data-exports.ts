import { type Kysely, sql } from 'kysely';

/**
 * Requests for a copy of a user's personal data. The parts themselves live in the platform's
 * storage (`data-exports/<id>/<module>.json`); `parts` names the modules expected to write one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table identity.data_exports (
      id uuid primary key,
      user_id uuid not null references identity.users (id),
      requested_at timestamptz not null,
      expires_at timestamptz not null,
      parts text[] not null
    )`.execute(db);
  await sql`create index data_exports_user on identity.data_exports (user_id, requested_at desc)`.execute(db);
  await sql`create index data_exports_expiry on identity.data_exports (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table identity.data_exports`.execute(db);
}
