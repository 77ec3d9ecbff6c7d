import { type Kysely, sql } from 'kysely';
import type { AnalyticsTables } from './tables.js';

type Db = Kysely<AnalyticsTables>;

/** Which courses a report covers: all (platform), or these (an instructor's, or one). */
export type Scope =
  | { kind: 'platform' }
  | { kind: 'instructor'; instructorId: string }
  | { kind: 'course'; courseId: string };

const scopeFilter = (scope: Scope, column: string) => {
  const col = sql.ref(column);
  switch (scope.kind) {
    case 'platform':
      return sql`true`;
    case 'instructor':
      return sql`${col} in (select course_id from analytics.course_instructors where instructor_id = ${scope.instructorId})`;
    case 'course':
      return sql`${col} = ${scope.courseId}`;
  }
};

export async function teaches(db: Db, instructorId: string, courseId: string): Promise<boolean> {
  const row = await db
    .selectFrom('analytics.course_instructors')
    .select('course_id')
    .where('instructor_id', '=', instructorId)
    .where('course_id', '=', courseId)
    .executeTakeFirst();
  return row !== undefined;
}

export interface SalesRow {
  day: string;
  currency: string;
  orders: number;
  /** Minor units, as text: bigint sums travel as text and become numbers only when safe. */
  revenue: string;
  refunds: string;
}

/** Daily sales per currency over [from, to]; platform-wide from daily_revenue, else summed over courses. */
export async function salesSeries(db: Db, scope: Scope, from: string, to: string): Promise<SalesRow[]> {
  const rows =
    scope.kind === 'platform'
      ? await sql<SalesRow>`
          select to_char(day, 'YYYY-MM-DD') as day, currency, orders, revenue::text as revenue, refunds::text as refunds
          from analytics.daily_revenue where day between ${from}::date and ${to}::date
          order by day, currency`.execute(db)
      : await sql<SalesRow>`
          select to_char(day, 'YYYY-MM-DD') as day, currency, sum(orders)::int as orders,
                 sum(revenue)::text as revenue, sum(refunds)::text as refunds
          from analytics.daily_course_sales
          where day between ${from}::date and ${to}::date and ${scopeFilter(scope, 'course_id')}
          group by day, currency order by day, currency`.execute(db);
  return rows.rows;
}

export interface TopCourseRow {
  course_id: string;
  title: string | null;
  views: number;
  viewer_days: number;
  buyers: number;
  /** Minor units, as text: bigint sums travel as text and become numbers only when safe. */
  revenue: string;
  refunds: string;
}

export async function topCourses(
  db: Db,
  scope: Scope,
  range: { from: string; to: string },
  options: { by: 'revenue' | 'buyers' | 'views'; currency: string; limit: number },
): Promise<TopCourseRow[]> {
  const within = sql`day between ${range.from}::date and ${range.to}::date`;
  const order = sql.ref(options.by === 'revenue' ? 'revenue' : options.by === 'buyers' ? 'buyers' : 'views');
  const rows = await sql<TopCourseRow>`
    select k.course_id, co.title,
           coalesce(v.views, 0)::int as views, coalesce(v.viewer_days, 0)::int as viewer_days,
           coalesce(v.buyers, 0)::int as buyers, coalesce(s.revenue, 0) as revenue,
           coalesce(s.refunds, 0) as refunds
    from (
      select course_id from analytics.daily_course where ${within}
      union select course_id from analytics.daily_course_sales where ${within}
    ) k
    left join (
      select course_id, sum(views) as views, sum(viewers) as viewer_days, sum(buyers) as buyers
      from analytics.daily_course where ${within} group by course_id
    ) v on v.course_id = k.course_id
    left join (
      select course_id, sum(revenue) as revenue, sum(refunds) as refunds
      from analytics.daily_course_sales where ${within} and currency = ${options.currency} group by course_id
    ) s on s.course_id = k.course_id
    left join analytics.courses co on co.course_id = k.course_id
    where ${scopeFilter(scope, 'k.course_id')}
    order by ${order} desc, k.course_id
    limit ${options.limit}`.execute(db);
  return rows.rows;
}

export interface EngagementRow {
  day: string;
  new_users: number;
  dau: number;
  wau: number;
  mau: number;
  course_views: number;
  learning_seconds: number;
  enrolments: number;
  completions: number;
  searches: number;
  searches_without_results: number;
}

/** Every day of the range (zeros where nothing happened); WAU and MAU from the daily actives. */
export async function engagement(db: Db, from: string, to: string): Promise<EngagementRow[]> {
  const rows = await sql<EngagementRow>`
    select to_char(g.day, 'YYYY-MM-DD') as day,
           coalesce(p.new_users, 0) as new_users, coalesce(p.dau, 0) as dau,
           (select count(distinct actor)::int from analytics.daily_actives a where a.day between g.day - 6 and g.day) as wau,
           (select count(distinct actor)::int from analytics.daily_actives a where a.day between g.day - 29 and g.day) as mau,
           coalesce(p.course_views, 0) as course_views, coalesce(p.learning_seconds, 0)::float8 as learning_seconds,
           coalesce(p.enrolments, 0) as enrolments, coalesce(p.completions, 0) as completions,
           coalesce(p.searches, 0) as searches, coalesce(p.searches_without_results, 0) as searches_without_results
    from (select gs::date as day from generate_series(${from}::date, ${to}::date, interval '1 day') as gs) as g
    left join analytics.daily_platform p on p.day = g.day
    order by g.day`.execute(db);
  return rows.rows;
}

export async function searchMisses(db: Db, from: string, to: string, limit: number) {
  const rows = await sql<{ term: string; searches: number }>`
    select term, sum(searches)::int as searches from analytics.daily_search_misses
    where day between ${from}::date and ${to}::date
    group by term order by searches desc, term limit ${limit}`.execute(db);
  return rows.rows;
}
