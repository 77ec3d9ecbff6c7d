import { type Kysely, sql } from 'kysely';
import type { Prior } from '../reviews.service.js';
import type { CommunityTables } from '../tables.js';

/**
 * `count` visible reviews of one course in one statement (bench data): ratings 1–5, vote counts
 * spread so that the helpful and best orders differ, the Wilson score computed as the vote path
 * does (z = 1.96), and the aggregate row. Written straight to the tables: the services would
 * need a buyer per review, which a bench does not have. Not for demo data.
 */
export async function seedBulkReviews(
  db: Kysely<CommunityTables>,
  courseId: string,
  count: number,
  prior: Prior,
): Promise<void> {
  await sql`
    with v as (
      select g, gen_random_uuid() as id, gen_random_uuid() as author,
             (1 + (g * 7919) % 5)::int as rating, ((g * 104729) % 50)::int as up, ((g * 1299709) % 20)::int as down
      from generate_series(1::bigint, ${count}::bigint) g
    )
    insert into community.reviews
      (id, course_id, author_id, rating, body, verified, status, up_votes, down_votes, wilson, created_at, updated_at,
       first_visible_at)
    select id, ${courseId}::uuid, author, rating, 'Bench review number ' || g, true, 'visible', up, down,
      case when up + down = 0 then 0 else
        ((up::float8 / (up + down)) + 3.8416 / (2 * (up + down))
          - 1.96 * sqrt(((up::float8 / (up + down)) * (1 - up::float8 / (up + down)) + 3.8416 / (4 * (up + down))) / (up + down)))
        / (1 + 3.8416 / (up + down)) end,
      now() - make_interval(secs => g), now() - make_interval(secs => g), now() - make_interval(secs => g)
    from v`.execute(db);
  await sql`
    insert into community.course_ratings (course_id, count, sum, r1, r2, r3, r4, r5, bayesian, updated_at)
    select ${courseId}::uuid, count(*), sum(rating),
      count(*) filter (where rating = 1), count(*) filter (where rating = 2), count(*) filter (where rating = 3),
      count(*) filter (where rating = 4), count(*) filter (where rating = 5),
      (${prior.weight * prior.mean} + sum(rating)) / (${prior.weight} + count(*))::float8, now()
    from community.reviews where course_id = ${courseId}::uuid
    on conflict (course_id) do nothing`.execute(db);
  // vacuumed, as a table with this many reviews long since would be: otherwise the first pages
  // read set each row's hint bits, and autovacuum visits the table while a bench measures
  // (vacuum runs outside a transaction only: `db` must not be one)
  await sql`vacuum analyze community.reviews`.execute(db);
}
