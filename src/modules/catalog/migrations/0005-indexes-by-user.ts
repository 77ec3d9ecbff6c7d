import { type Kysely, sql } from 'kysely';

/**
 * Indexes that start with the user's id for the columns a user's data export pages by
 * (`personal-data.queries.ts`): the assets they uploaded, keyset on `(created_at, id)`, and the
 * co-teaching invitations they sent, keyset on `(created_at, course_id, instructor_id)`. Each
 * page is then one short index range instead of a scan of the table (the invitations they
 * received already have `instructor_invitations_instructor_idx`).
 */
const INDEXES = [
  ['assets_uploaded_by_idx', 'catalog.assets (uploaded_by, created_at, id)'],
  [
    'instructor_invitations_invited_by_idx',
    'catalog.instructor_invitations (invited_by, created_at, course_id, instructor_id)',
  ],
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [name, on] of INDEXES) {
    await sql`create index if not exists ${sql.raw(name)} on ${sql.raw(on)}`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [name] of INDEXES) {
    await sql`drop index if exists ${sql.raw(`catalog.${name}`)}`.execute(db);
  }
}
