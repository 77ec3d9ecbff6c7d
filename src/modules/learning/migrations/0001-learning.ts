import { type Kysely, sql } from 'kysely';

/** Entitlements by source, refund tombstones, progress, learning time and certificates. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema.withSchema('learning');
  const ts = sql`timestamptz(3)`;
  await s
    .createTable('grants')
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('course_id', 'uuid', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('order', 'free', 'admin')`))
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('granted_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('grants_pkey', ['user_id', 'course_id', 'source', 'source_id'])
    .execute();
  await s
    .createTable('tombstones')
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('course_id', 'text', (c) => c.notNull())
    .addColumn('revoked_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('tombstones_pkey', ['order_id', 'course_id'])
    .execute();
  await s
    .createTable('order_locks')
    .addColumn('order_id', 'text', (c) => c.primaryKey())
    .execute();
  await s
    .createTable('lesson_progress')
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('lesson_id', 'uuid', (c) => c.notNull())
    .addColumn('course_id', 'uuid', (c) => c.notNull())
    .addColumn('max_position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('resume_position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('client_reported_at', ts)
    .addColumn('last_reported_at', ts)
    .addColumn('completed_at', ts)
    .addPrimaryKeyConstraint('lesson_progress_pkey', ['user_id', 'lesson_id'])
    .execute();
  await s
    .createIndex('lesson_progress_course_idx')
    .on('lesson_progress')
    .columns(['user_id', 'course_id'])
    .execute();
  await s
    .createTable('course_progress')
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('course_id', 'uuid', (c) => c.notNull())
    .addColumn('completed_lessons', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_lesson_id', 'uuid')
    .addColumn('resume_position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_activity_at', ts, (c) => c.notNull())
    .addColumn('completed_at', ts)
    .addPrimaryKeyConstraint('course_progress_pkey', ['user_id', 'course_id'])
    .execute();
  // "my learning": most recently active first, keyset on (last_activity_at, course_id)
  await s
    .createIndex('course_progress_recent_idx')
    .on('course_progress')
    .columns(['user_id', 'last_activity_at', 'course_id'])
    .execute();
  await s
    .createTable('daily_time')
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('seconds', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('daily_time_pkey', ['user_id', 'day'])
    .execute();
  await s
    .createTable('certificates')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('course_id', 'uuid', (c) => c.notNull())
    .addColumn('verification_id', 'text', (c) => c.notNull().unique())
    .addColumn('learner_name', 'text', (c) => c.notNull())
    .addColumn('course_title', 'text', (c) => c.notNull())
    .addColumn('issued_at', ts, (c) => c.notNull())
    .addUniqueConstraint('certificates_user_course_key', ['user_id', 'course_id'])
    .execute();
  await s
    .createIndex('certificates_user_idx')
    .on('certificates')
    .columns(['user_id', 'issued_at', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'certificates',
    'daily_time',
    'course_progress',
    'lesson_progress',
    'order_locks',
    'tombstones',
    'grants',
  ]) {
    await db.schema.withSchema('learning').dropTable(table).ifExists().execute();
  }
}
