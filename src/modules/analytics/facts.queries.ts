import { type Kysely, sql } from 'kysely';
import { isUuid } from '../../platform/ids.js';
import type { AnalyticsTables } from './tables.js';

/** Read copies of other modules' facts, written by the subscribers (see subscribers.ts). */
type Db = Kysely<AnalyticsTables>;

export interface OrderLineFact {
  orderId: string;
  courseId: string;
  userId: string;
  amount: number;
  currency: string;
  instructorIds: string[];
  paidAt: string;
}

export async function insertOrderLines(db: Db, lines: OrderLineFact[]): Promise<void> {
  if (lines.length === 0) return;
  await db
    .insertInto('analytics.order_lines')
    .values(
      lines.map((l) => ({
        order_id: l.orderId,
        course_id: l.courseId,
        user_id: l.userId,
        amount: l.amount,
        currency: l.currency,
        instructor_ids: l.instructorIds,
        paid_at: l.paidAt,
      })),
    )
    .onConflict((oc) => oc.columns(['order_id', 'course_id']).doNothing())
    .execute();
}

/** A user and a course: one row of purchases, owned or course_instructors (course, instructor). */
export interface Pair {
  userId: string;
  courseId: string;
}

/**
 * Count users' new purchases into the co-purchase pairs, in one statement for any number of users:
 * each new course pairs with every course its user bought (before or in this call), both ways.
 * The statement's reads see the purchases as they were before its insert, so a user's courses are
 * the old rows plus the fresh ones; pairs and buyers are summed first, since one upsert may not
 * touch a row twice.
 */
export async function addPurchases(db: Db, purchases: Pair[]): Promise<void> {
  if (purchases.length === 0) return;
  await sql`
    with fresh as (
      insert into analytics.purchases (user_id, course_id)
      select distinct u, c from unnest(${purchases.map((p) => p.userId)}::uuid[], ${purchases.map((p) => p.courseId)}::uuid[]) as t(u, c)
      on conflict do nothing
      returning user_id, course_id
    ), counted as (
      insert into analytics.course_buyers (course_id, buyers)
      select course_id, count(*) from fresh group by course_id
      on conflict (course_id) do update set buyers = analytics.course_buyers.buyers + excluded.buyers
    ), mine(u, p) as (
      select user_id, course_id from analytics.purchases where user_id in (select user_id from fresh)
      union all
      select user_id, course_id from fresh
    ), pairs(a, b) as (
      -- (new, any) plus (old, new): every unordered pair once per direction, none twice
      select f.course_id, m.p from fresh f join mine m on m.u = f.user_id where f.course_id <> m.p
      union all
      select m.p, f.course_id from fresh f join mine m on m.u = f.user_id
      where f.course_id <> m.p
        and not exists (select 1 from fresh n where n.user_id = f.user_id and n.course_id = m.p)
    )
    insert into analytics.copurchases (course_a, course_b, buyers)
    select a, b, count(*) from pairs group by a, b
    on conflict (course_a, course_b) do update set buyers = analytics.copurchases.buyers + excluded.buyers`.execute(
    db,
  );
}

/** The reverse of addPurchases for refunded courses: the pairs lose this buyer. */
export async function removePurchases(db: Db, userId: string, courseIds: string[]): Promise<void> {
  if (courseIds.length === 0) return;
  const gone = await db
    .deleteFrom('analytics.purchases')
    .where('user_id', '=', userId)
    .where('course_id', 'in', courseIds)
    .returning('course_id')
    .execute();
  const removed = gone.map((r) => r.course_id);
  if (removed.length === 0) return;
  await sql`
    update analytics.course_buyers set buyers = buyers - 1
    where course_id = any(${removed}::uuid[])`.execute(db);
  await sql`
    with removed(c) as (select unnest(${removed}::uuid[])),
    mine(p) as (select course_id from analytics.purchases where user_id = ${userId} union select c from removed),
    pairs(a, b) as (
      select c, p from removed, mine where c <> p
      union all
      select p, c from removed, mine where c <> p and p not in (select c from removed)
    )
    update analytics.copurchases cp set buyers = cp.buyers - 1
    from pairs where cp.course_a = pairs.a and cp.course_b = pairs.b`.execute(db);
  await db.deleteFrom('analytics.copurchases').where('buyers', '<=', 0).execute();
}

export async function own(db: Db, owned: Pair[]): Promise<void> {
  if (owned.length === 0) return;
  await db
    .insertInto('analytics.owned')
    .values(owned.map((o) => ({ user_id: o.userId, course_id: o.courseId })))
    .onConflict((oc) => oc.columns(['user_id', 'course_id']).doNothing())
    .execute();
}

export async function disown(db: Db, userId: string, courseIds: string[]): Promise<void> {
  if (courseIds.length === 0) return;
  await db
    .deleteFrom('analytics.owned')
    .where('user_id', '=', userId)
    .where('course_id', 'in', courseIds)
    .execute();
}

/**
 * Copy a course's facts from a catalog event that happened at `at`: true when they were taken,
 * false when the copy already holds a later event's (the caller then leaves the event's other facts
 * out too).
 */
export async function upsertCourse(
  db: Db,
  course: {
    courseId: string;
    title?: string | undefined;
    status: string;
    priceAmount: number;
    currency: string;
    at: Date;
  },
): Promise<boolean> {
  const row = await db
    .insertInto('analytics.courses')
    .values({
      course_id: course.courseId,
      title: course.title ?? '',
      status: course.status,
      price_amount: course.priceAmount,
      currency: course.currency,
      facts_at: course.at,
    })
    .onConflict((oc) =>
      oc
        .column('course_id')
        .doUpdateSet({
          ...(course.title === undefined ? {} : { title: course.title }),
          status: course.status,
          price_amount: course.priceAmount,
          currency: course.currency,
          facts_at: course.at,
        })
        .where(newerFacts(course.at)),
    )
    .returning('course_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** The stored facts are older than `at` (or of unknown age): an event at `at` may replace them. */
const newerFacts = (at: Date) =>
  sql<boolean>`(analytics.courses.facts_at is null or analytics.courses.facts_at <= ${at})`;

export async function setCourseStatus(db: Db, courseId: string, status: string, at: Date): Promise<void> {
  await db
    .updateTable('analytics.courses')
    .set({ status, facts_at: at })
    .where('course_id', '=', courseId)
    .where(newerFacts(at))
    .execute();
}

/** The course's category (null: none), as its latest catalog event tells it. */
export async function setCourseCategory(db: Db, courseId: string, categoryId: string | null): Promise<void> {
  await db
    .updateTable('analytics.courses')
    .set({ category_id: categoryId })
    .where('course_id', '=', courseId)
    .execute();
}

/** Replace the course's tags with these (an event carries the whole set). */
export async function replaceCourseTags(db: Db, courseId: string, tags: string[]): Promise<void> {
  await db.deleteFrom('analytics.course_tags').where('course_id', '=', courseId).execute();
  const unique = [...new Set(tags)];
  await db
    .updateTable('analytics.courses')
    .set({ tag_count: unique.length })
    .where('course_id', '=', courseId)
    .execute();
  if (unique.length === 0) return;
  await db
    .insertInto('analytics.course_tags')
    .values(unique.map((tag) => ({ course_id: courseId, tag })))
    .execute();
}

export async function addInstructors(db: Db, courseId: string, instructorIds: string[]): Promise<void> {
  await addCourseInstructors(
    db,
    instructorIds.map((instructorId) => ({ courseId, instructorId })),
  );
}

/** The instructors of any number of courses in one statement; ids that are not uuids are dropped. */
export async function addCourseInstructors(
  db: Db,
  rows: { courseId: string; instructorId: string }[],
): Promise<void> {
  const valid = rows.filter((r) => isUuid(r.instructorId));
  if (valid.length === 0) return;
  await db
    .insertInto('analytics.course_instructors')
    .values(valid.map((r) => ({ course_id: r.courseId, instructor_id: r.instructorId })))
    .onConflict((oc) => oc.columns(['course_id', 'instructor_id']).doNothing())
    .execute();
}

export async function removeInstructor(db: Db, courseId: string, instructorId: string): Promise<void> {
  await db
    .deleteFrom('analytics.course_instructors')
    .where('course_id', '=', courseId)
    .where('instructor_id', '=', instructorId)
    .execute();
}

export async function upsertCategory(db: Db, categoryId: string, name: string): Promise<void> {
  await db
    .insertInto('analytics.categories')
    .values({ category_id: categoryId, name })
    .onConflict((oc) => oc.column('category_id').doUpdateSet({ name }))
    .execute();
}
