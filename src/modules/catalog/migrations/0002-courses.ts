import { type Kysely, sql } from 'kysely';

// Sortable timestamps are timestamptz(3): keyset cursors carry JS Dates (milliseconds), and a
// microsecond value would never compare equal to its own cursor.
const ts3 = sql`timestamptz(3)`;

export async function up(db: Kysely<unknown>): Promise<void> {
  // trigram matching backs typo correction; pg_trgm is a trusted extension (PG 13+), and PGlite
  // is created with it
  await sql`create extension if not exists pg_trgm`.execute(db);

  const s = db.schema.withSchema('catalog');

  await s
    .alterTable('categories')
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await s.createIndex('categories_parent_idx').on('categories').column('parent_id').execute();

  await s
    .createTable('instructors')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('headline', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('bio', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', ts3, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', ts3, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await s
    .createTable('tags')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', ts3, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await s
    .createTable('courses')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('owner_id', 'uuid', (c) => c.notNull().references('catalog.instructors.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('subtitle', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('category_id', 'uuid', (c) => c.references('catalog.categories.id').onDelete('restrict'))
    .addColumn('cover_asset_id', 'uuid')
    .addColumn('price_amount', 'integer', (c) => c.notNull().check(sql`price_amount >= 0`))
    .addColumn('currency', 'text', (c) => c.notNull().check(sql`currency ~ '^[A-Z]{3}$'`))
    .addColumn('level', 'text', (c) =>
      c.notNull().check(sql`level in ('beginner', 'intermediate', 'advanced', 'all_levels')`),
    )
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('draft').check(sql`status in ('draft', 'in_review', 'published', 'archived')`),
    )
    .addColumn('review_note', 'text')
    .addColumn('submitted_at', ts3)
    .addColumn('published_at', ts3)
    .addColumn('archived_at', ts3)
    .addColumn('lesson_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('duration_seconds', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('popularity', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rating_x100', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rating_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('favourite_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('search_vector', sql`tsvector`, (c) => c.notNull().defaultTo(sql`''::tsvector`))
    .addColumn('created_at', ts3, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', ts3, (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint(
      'courses_published_has_date',
      sql`status not in ('published', 'archived') or published_at is not null`,
    )
    .execute();

  // the public list reads published courses only, in one of five orders: one partial index each
  const published = sql`status = 'published'`;
  await sql`create index courses_newest_idx on catalog.courses (published_at desc, id desc) where ${published}`.execute(
    db,
  );
  await sql`create index courses_popular_idx on catalog.courses (popularity desc, id desc) where ${published}`.execute(
    db,
  );
  await sql`create index courses_rating_idx on catalog.courses (rating_x100 desc, id desc) where ${published}`.execute(
    db,
  );
  await sql`create index courses_price_idx on catalog.courses (price_amount, id) where ${published}`.execute(
    db,
  );
  await sql`create index courses_search_idx on catalog.courses using gin (search_vector) where ${published}`.execute(
    db,
  );
  await s.createIndex('courses_owner_idx').on('courses').columns(['owner_id', 'created_at']).execute();
  await s.createIndex('courses_category_idx').on('courses').column('category_id').execute();
  await sql`create index courses_review_idx on catalog.courses (submitted_at, id) where status = 'in_review'`.execute(
    db,
  );

  await s
    .createTable('course_instructors')
    .addColumn('course_id', 'uuid', (c) => c.notNull().references('catalog.courses.id').onDelete('cascade'))
    .addColumn('instructor_id', 'uuid', (c) => c.notNull().references('catalog.instructors.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('course_instructors_pkey', ['course_id', 'instructor_id'])
    .execute();
  await s
    .createIndex('course_instructors_instructor_idx')
    .on('course_instructors')
    .columns(['instructor_id', 'course_id'])
    .execute();

  await s
    .createTable('course_tags')
    .addColumn('course_id', 'uuid', (c) => c.notNull().references('catalog.courses.id').onDelete('cascade'))
    .addColumn('tag_id', 'uuid', (c) => c.notNull().references('catalog.tags.id'))
    .addPrimaryKeyConstraint('course_tags_pkey', ['course_id', 'tag_id'])
    .execute();
  await s.createIndex('course_tags_tag_idx').on('course_tags').columns(['tag_id', 'course_id']).execute();

  await s
    .createTable('assets')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('course_id', 'uuid', (c) => c.notNull().references('catalog.courses.id').onDelete('cascade'))
    .addColumn('uploaded_by', 'uuid', (c) => c.notNull())
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('video', 'audio', 'document', 'slides', 'ebook', 'image')`),
    )
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('original_name', 'text', (c) => c.notNull())
    .addColumn('storage_key', 'text', (c) => c.notNull().unique())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('duration_seconds', 'integer')
    .addColumn('page_count', 'integer')
    .addColumn('created_at', ts3, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await s.createIndex('assets_course_idx').on('assets').columns(['course_id', 'created_at']).execute();
  await s
    .alterTable('courses')
    .addForeignKeyConstraint('courses_cover_fk', ['cover_asset_id'], 'catalog.assets', ['id'], (c) =>
      c.onDelete('set null'),
    )
    .execute();

  await s
    .createTable('chapters')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('course_id', 'uuid', (c) => c.notNull().references('catalog.courses.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts3, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await s.createIndex('chapters_course_idx').on('chapters').columns(['course_id', 'position']).execute();

  await s
    .createTable('lessons')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('course_id', 'uuid', (c) => c.notNull().references('catalog.courses.id').onDelete('cascade'))
    .addColumn('chapter_id', 'uuid', (c) => c.notNull().references('catalog.chapters.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('video', 'document', 'slides', 'ebook', 'article')`),
    )
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('duration_seconds', 'integer')
    .addColumn('free_preview', 'boolean', (c) => c.notNull().defaultTo(false))
    // an asset in use by a lesson cannot be deleted out from under it
    .addColumn('asset_id', 'uuid', (c) => c.references('catalog.assets.id').onDelete('restrict'))
    .addColumn('body', 'text')
    .addColumn('created_at', ts3, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', ts3, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await s.createIndex('lessons_chapter_idx').on('lessons').columns(['chapter_id', 'position']).execute();
  await s.createIndex('lessons_course_idx').on('lessons').column('course_id').execute();
  await s.createIndex('lessons_asset_idx').on('lessons').column('asset_id').execute();

  await s
    .createTable('favourites')
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('course_id', 'uuid', (c) => c.notNull().references('catalog.courses.id').onDelete('cascade'))
    .addColumn('created_at', ts3, (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('favourites_pkey', ['user_id', 'course_id'])
    .execute();
  await sql`create index favourites_list_idx on catalog.favourites (user_id, created_at desc, course_id desc)`.execute(
    db,
  );
  await s.createIndex('favourites_course_idx').on('favourites').column('course_id').execute();

  await s
    .createTable('search_words')
    .addColumn('word', 'text', (c) => c.primaryKey())
    .execute();
  await sql`create index search_words_trgm_idx on catalog.search_words using gin (word gin_trgm_ops)`.execute(
    db,
  );
}
