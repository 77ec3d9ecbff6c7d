import { type Kysely, sql } from 'kysely';

/**
 * Reviews with their rating aggregates, lesson discussions, votes, reports, the moderation trail,
 * and read copies of other modules' facts (grants for the verified mark, members for mentions).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema.withSchema('community');
  const ts = sql`timestamptz(3)`;
  const status = (c: string) => sql.raw(`${c} in ('visible', 'held', 'hidden')`);

  await s
    .createTable('reviews')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('course_id', 'uuid', (c) => c.notNull())
    .addColumn('author_id', 'uuid', (c) => c.notNull())
    .addColumn('rating', 'smallint', (c) => c.notNull().check(sql`rating between 1 and 5`))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('verified', 'boolean', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(status('status')))
    .addColumn('up_votes', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('down_votes', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('wilson', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('reply_body', 'text')
    .addColumn('reply_author_id', 'uuid')
    .addColumn('replied_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addUniqueConstraint('reviews_course_author_key', ['course_id', 'author_id'])
    .execute();
  // one partial index per public order, so each sort is an index scan over visible rows only
  for (const [name, cols] of [
    ['reviews_newest_idx', 'course_id, created_at desc, id desc'],
    ['reviews_helpful_idx', 'course_id, up_votes desc, id desc'],
    ['reviews_best_idx', 'course_id, wilson desc, id desc'],
  ] as const) {
    await sql`create index ${sql.raw(name)} on community.reviews (${sql.raw(cols)}) where status = 'visible'`.execute(
      db,
    );
  }
  await s.createIndex('reviews_author_idx').on('reviews').columns(['author_id', 'course_id']).execute();
  await sql`create index reviews_queue_idx on community.reviews (created_at, id) where status <> 'visible'`.execute(
    db,
  );

  await s
    .createTable('review_votes')
    .addColumn('review_id', 'uuid', (c) => c.notNull().references('community.reviews.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('helpful', 'boolean', (c) => c.notNull())
    .addColumn('voted_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('review_votes_pkey', ['review_id', 'user_id'])
    .execute();

  await s
    .createTable('course_ratings')
    .addColumn('course_id', 'uuid', (c) => c.primaryKey())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('sum', 'integer', (c) => c.notNull())
    .addColumn('r1', 'integer', (c) => c.notNull())
    .addColumn('r2', 'integer', (c) => c.notNull())
    .addColumn('r3', 'integer', (c) => c.notNull())
    .addColumn('r4', 'integer', (c) => c.notNull())
    .addColumn('r5', 'integer', (c) => c.notNull())
    .addColumn('bayesian', 'double precision', (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await s
    .createIndex('course_ratings_bayesian_idx')
    .on('course_ratings')
    .expression(sql`bayesian desc, course_id desc`)
    .execute();

  await s
    .createTable('comments')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('lesson_id', 'uuid', (c) => c.notNull())
    .addColumn('course_id', 'uuid', (c) => c.notNull())
    .addColumn('parent_id', 'uuid', (c) => c.references('community.comments.id').onDelete('cascade'))
    .addColumn('author_id', 'uuid', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('by_instructor', 'boolean', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(status('status')))
    .addColumn('up_votes', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('down_votes', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('wilson', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  for (const [name, cols] of [
    ['comments_newest_idx', 'lesson_id, created_at desc, id desc'],
    ['comments_helpful_idx', 'lesson_id, up_votes desc, id desc'],
    ['comments_best_idx', 'lesson_id, wilson desc, id desc'],
  ] as const) {
    await sql`create index ${sql.raw(name)} on community.comments (${sql.raw(cols)}) where status = 'visible' and parent_id is null`.execute(
      db,
    );
  }
  await s
    .createIndex('comments_parent_idx')
    .on('comments')
    .columns(['parent_id', 'created_at', 'id'])
    .execute();
  await sql`create index comments_queue_idx on community.comments (created_at, id) where status <> 'visible'`.execute(
    db,
  );

  await s
    .createTable('comment_votes')
    .addColumn('comment_id', 'uuid', (c) =>
      c.notNull().references('community.comments.id').onDelete('cascade'),
    )
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('helpful', 'boolean', (c) => c.notNull())
    .addColumn('voted_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('comment_votes_pkey', ['comment_id', 'user_id'])
    .execute();

  await s
    .createTable('mentions')
    .addColumn('comment_id', 'uuid', (c) =>
      c.notNull().references('community.comments.id').onDelete('cascade'),
    )
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addPrimaryKeyConstraint('mentions_pkey', ['comment_id', 'user_id'])
    .execute();

  // reports and the audit trail outlive what they are about: no foreign key to the subject
  await s
    .createTable('reports')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('subject_type', 'text', (c) => c.notNull().check(sql`subject_type in ('review', 'comment')`))
    .addColumn('subject_id', 'uuid', (c) => c.notNull())
    .addColumn('reporter_id', 'uuid', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('resolved_at', ts)
    .addUniqueConstraint('reports_once_key', ['subject_type', 'subject_id', 'reporter_id'])
    .execute();
  await sql`create index reports_open_idx on community.reports (subject_type, subject_id) where resolved_at is null`.execute(
    db,
  );

  await s
    .createTable('moderation_log')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'uuid', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'uuid')
    .addColumn('reason', 'text')
    .addColumn('at', ts, (c) => c.notNull())
    .execute();
  await s
    .createIndex('moderation_log_subject_idx')
    .on('moderation_log')
    .columns(['subject_id', 'id'])
    .execute();

  await s
    .createTable('grants')
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('course_id', 'uuid', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('grants_pkey', ['user_id', 'course_id', 'source', 'source_id'])
    .execute();

  await s
    .createTable('members')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('members_name_idx').on('members').column('name_key').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'members',
    'grants',
    'moderation_log',
    'reports',
    'mentions',
    'comment_votes',
    'comments',
    'course_ratings',
    'review_votes',
    'reviews',
  ]) {
    await db.schema.withSchema('community').dropTable(table).ifExists().execute();
  }
}
