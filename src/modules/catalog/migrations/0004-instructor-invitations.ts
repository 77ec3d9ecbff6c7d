import { type Kysely, sql } from 'kysely';

/**
 * Co-instructors join by invitation: the owner invites, the invitee accepts or declines, the
 * owner may withdraw. `accepted` is an acceptance on a course that is already out of draft,
 * waiting for a reviewer before the name appears on the course.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .withSchema('catalog')
    .createTable('instructor_invitations')
    .addColumn('course_id', 'uuid', (c) => c.notNull().references('catalog.courses.id').onDelete('cascade'))
    .addColumn('instructor_id', 'uuid', (c) => c.notNull().references('catalog.instructors.id'))
    .addColumn('invited_by', 'uuid', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('pending').check(sql`status in ('pending', 'accepted')`),
    )
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('instructor_invitations_pkey', ['course_id', 'instructor_id'])
    .execute();
  await db.schema
    .withSchema('catalog')
    .createIndex('instructor_invitations_instructor_idx')
    .on('instructor_invitations')
    .columns(['instructor_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.withSchema('catalog').dropTable('instructor_invitations').execute();
}
