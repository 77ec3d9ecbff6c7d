import { type Kysely, sql } from 'kysely';

/** An account its owner closed: `status = 'closed'`, its personal data gone, `closed_at` kept. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table identity.users drop constraint users_status_check`.execute(db);
  await sql`alter table identity.users add constraint users_status_check check (status in ('active', 'disabled', 'closed'))`.execute(
    db,
  );
  await sql`alter table identity.users add column closed_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table identity.users drop column closed_at`.execute(db);
  await sql`alter table identity.users drop constraint users_status_check`.execute(db);
  await sql`alter table identity.users add constraint users_status_check check (status in ('active', 'disabled'))`.execute(
    db,
  );
}
