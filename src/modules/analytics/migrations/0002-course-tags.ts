import { type Kysely, sql } from 'kysely';

/**
 * Course tags, copied from catalog's course events (which now carry category and tags), for the
 * content neighbours; the category copy gets an index for the same reason. Courses copied before
 * this keep no tags until their next catalog event.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table analytics.course_tags (
      course_id uuid not null,
      tag text not null,
      primary key (course_id, tag)
    )`.execute(db);
  // the size of a course's tag set, so a similarity needs no count per candidate
  await sql`alter table analytics.courses add column tag_count integer not null default 0`.execute(db);
  // neighbours are found from a tag to the courses that carry it
  await sql`create index course_tags_tag_idx on analytics.course_tags (tag, course_id)`.execute(db);
  await sql`create index courses_category_idx on analytics.courses (category_id) where category_id is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists analytics.courses_category_idx`.execute(db);
  await sql`drop table if exists analytics.course_tags`.execute(db);
  await sql`alter table analytics.courses drop column if exists tag_count`.execute(db);
}
