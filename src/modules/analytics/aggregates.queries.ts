import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { AnalyticsTables } from './tables.js';

type Db = Kysely<AnalyticsTables>;

/** Kinds that are something the user did (a refund or a revocation is done to them). */
const ACTIVE_KINDS_EXCLUDED = sql`('order_refunded', 'unenrolment')`;
/** Kinds counted as interactions for the activity score's C (see CONTEXT.md). */
const INTERACTION_KINDS = sql`('lesson_completed', 'course_completed', 'review_created', 'comment_created', 'share')`;
/** Client events whose watchedSeconds are learning time. */
const WATCH_KINDS = sql`('lesson_pause', 'lesson_complete')`;

/**
 * Each statement rebuilds one aggregate table's rows of one UTC day from that day's raw events
 * (a set-based delete + insert); run together in one transaction they replace the day atomically.
 * `$day` is the day, `[$from, $to)` its instants.
 */
function statements(day: string): RawBuilder<unknown>[] {
  const from = `${day}T00:00:00.000Z`;
  const to = new Date(Date.parse(from) + 86_400_000).toISOString();
  const dayEvents = sql`(select * from analytics.events where occurred_at >= ${from}::timestamptz and occurred_at < ${to}::timestamptz)`;
  const d = sql`${day}::date`;
  const del = (table: string) => sql`delete from ${sql.table(`analytics.${table}`)} where day = ${d}`;
  const paidLines = sql`(
    select e.props->>'currency' as currency, e.props->>'orderId' as order_id, l->>'courseId' as course_id,
           (l->>'amount')::bigint as amount, l->'instructorIds' as instructor_ids
    from ${dayEvents} e cross join lateral jsonb_array_elements(e.props->'lines') l
    where e.kind = 'order_paid')`;
  // a refund split over the order's lines it revoked (all lines when it names none), in
  // proportion to what each line cost; the rounding remainder goes to the first line
  const refundLines = sql`(
    with r as (
      select e.event_key, (e.props->>'amount')::bigint as amount, e.props->>'currency' as currency,
             (e.props->>'orderId') as order_id,
             array(select jsonb_array_elements_text(e.props->'revokedCourseIds')) as revoked
      from ${dayEvents} e where e.kind = 'order_refunded'
    ), l as (
      select r.event_key, r.amount, r.currency, ol.course_id, ol.instructor_ids, ol.amount as line_amount,
             sum(ol.amount) over (partition by r.event_key) as total,
             row_number() over (partition by r.event_key order by ol.course_id) as rn
      from r join analytics.order_lines ol on ol.order_id::text = r.order_id
      where cardinality(r.revoked) = 0 or ol.course_id::text = any(r.revoked)
    ), s as (
      select *, case when total = 0 then 0 else floor(amount * line_amount / total)::bigint end as share from l
    )
    select currency, course_id, instructor_ids,
           share + case when rn = 1 then amount - sum(share) over (partition by event_key) else 0 end as refunded
    from s)`;

  return [
    del('daily_actives'),
    sql`insert into analytics.daily_actives (day, actor, user_id)
        select ${d}, actor, min(user_id::text)::uuid from ${dayEvents} e
        where kind not in ${ACTIVE_KINDS_EXCLUDED} group by actor`,

    del('daily_user_activity'),
    sql`insert into analytics.daily_user_activity (day, user_id, learning_seconds, interactions)
        select ${d}, user_id,
               coalesce(sum((props->>'watchedSeconds')::bigint) filter (where kind in ${WATCH_KINDS}), 0),
               count(*) filter (where kind in ${INTERACTION_KINDS})
        from ${dayEvents} e where user_id is not null group by user_id`,

    del('daily_platform'),
    sql`insert into analytics.daily_platform
          (day, new_users, dau, course_views, learning_seconds, enrolments, completions, searches, searches_without_results)
        select ${d},
               count(*) filter (where kind = 'user_registered'),
               (select count(*) from analytics.daily_actives where day = ${d}),
               count(*) filter (where kind = 'course_view'),
               coalesce(sum((props->>'watchedSeconds')::bigint) filter (where kind in ${WATCH_KINDS}), 0),
               count(*) filter (where kind = 'enrolment'),
               count(*) filter (where kind = 'course_completed'),
               count(*) filter (where kind = 'search'),
               count(*) filter (where kind = 'search' and (props->>'resultCount')::int = 0)
        from ${dayEvents} e`,

    del('daily_revenue'),
    sql`insert into analytics.daily_revenue (day, currency, orders, revenue, refunds)
        select ${d}, currency, sum(orders), sum(revenue), sum(refunds) from (
          select props->>'currency' as currency, 1 as orders, (props->>'total')::bigint as revenue, 0::bigint as refunds
          from ${dayEvents} e where kind = 'order_paid'
          union all
          select props->>'currency', 0, 0, (props->>'amount')::bigint from ${dayEvents} e where kind = 'order_refunded'
        ) x group by currency`,

    del('daily_course_sales'),
    sql`insert into analytics.daily_course_sales (day, course_id, currency, orders, revenue, refunds)
        select ${d}, course_id::uuid, currency, sum(orders), sum(revenue), sum(refunds) from (
          select course_id, currency, 1 as orders, amount as revenue, 0::bigint as refunds from ${paidLines} p
          union all
          select course_id::text, currency, 0, 0, refunded from ${refundLines} r
        ) x
        where course_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        group by course_id, currency`,

    del('daily_instructor_sales'),
    sql`insert into analytics.daily_instructor_sales (day, instructor_id, currency, orders, revenue, refunds)
        select ${d}, instructor_id::uuid, currency, sum(orders), sum(revenue), sum(refunds) from (
          select i as instructor_id, currency, 1 as orders, amount as revenue, 0::bigint as refunds
          from ${paidLines} p cross join lateral jsonb_array_elements_text(p.instructor_ids) i
          union all
          select i::text, currency, 0, 0, refunded from ${refundLines} r cross join lateral unnest(r.instructor_ids) i
        ) x
        where instructor_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        group by instructor_id, currency`,

    del('daily_course'),
    sql`insert into analytics.daily_course (day, course_id, views, viewers, buyers, enrolments, completions, learning_seconds)
        select ${d}, course_id, sum(views), sum(viewers), sum(buyers), sum(enrolments), sum(completions), sum(learning) from (
          select course_id,
                 count(*) filter (where kind = 'course_view') as views,
                 count(distinct actor) filter (where kind = 'course_view') as viewers,
                 0 as buyers,
                 count(*) filter (where kind = 'enrolment') as enrolments,
                 count(*) filter (where kind = 'course_completed') as completions,
                 coalesce(sum((props->>'watchedSeconds')::bigint) filter (where kind in ${WATCH_KINDS}), 0) as learning
          from ${dayEvents} e where course_id is not null group by course_id
          union all
          select course_id::uuid, 0, 0, count(*), 0, 0, 0 from ${paidLines} p
          where course_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
          group by course_id
        ) x group by course_id`,

    del('daily_search_misses'),
    sql`insert into analytics.daily_search_misses (day, term, searches)
        select ${d}, lower(btrim(props->>'query')), count(*) from ${dayEvents} e
        where kind = 'search' and (props->>'resultCount')::int = 0 group by 1, 2`,
  ];
}

/** Rebuild every aggregate of one day (`YYYY-MM-DD`) from raw events; call inside a transaction. */
export async function recomputeDay(db: Db, day: string): Promise<void> {
  for (const statement of statements(day)) await statement.execute(db);
}

/**
 * Take the oldest day marked dirty, skipping one another worker holds; the mark is deleted in
 * the caller's transaction, so it is back if the recompute fails.
 */
export async function takeDirtyDay(db: Db): Promise<string | undefined> {
  const row = await sql<{ day: string }>`
    delete from analytics.dirty_days
    where day = (select day from analytics.dirty_days order by day limit 1 for update skip locked)
    returning to_char(day, 'YYYY-MM-DD') as day`.execute(db);
  return row.rows[0]?.day;
}

/** Every day that has raw events (for a full rebuild). */
export async function daysWithEvents(db: Db): Promise<string[]> {
  const rows = await sql<{ day: string }>`
    select distinct to_char((occurred_at at time zone 'UTC')::date, 'YYYY-MM-DD') as day
    from analytics.events order by 1`.execute(db);
  return rows.rows.map((r) => r.day);
}
