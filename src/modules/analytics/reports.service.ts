import type { Kysely } from 'kysely';
import { Invalid, NotFound } from './analytics.errors.js';
import { can } from './permissions.js';
import {
  engagement,
  type EngagementRow,
  type Scope,
  type SalesRow,
  salesSeries,
  searchMisses,
  teaches,
  topCourses,
} from './reports.queries.js';
import type { EngagementPoint, SalesPoint, TopCourse, TopCoursesQuery } from './reports.schemas.js';
import type { Viewer } from './routes.common.js';
import type { AnalyticsTables } from './tables.js';

const DAY_MS = 86_400_000;
/** Days of one page of a streamed series. */
const PAGE_DAYS = 31;

const dayNumber = (day: string) => Date.parse(`${day}T00:00:00.000Z`) / DAY_MS;
const dayOf = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10);

const toSalesPoint = (r: SalesRow): SalesPoint => ({
  day: r.day,
  currency: r.currency,
  orders: r.orders,
  revenue: { amount: Number(r.revenue), currency: r.currency },
  refunds: { amount: Number(r.refunds), currency: r.currency },
});

const toEngagement = (r: EngagementRow): EngagementPoint => ({
  day: r.day,
  newUsers: r.new_users,
  dau: r.dau,
  wau: r.wau,
  mau: r.mau,
  courseViews: r.course_views,
  learningMinutes: Math.round((r.learning_seconds / 60) * 100) / 100,
  enrolments: r.enrolments,
  completions: r.completions,
  searches: r.searches,
  searchesWithoutResults: r.searches_without_results,
});

export interface Range {
  from: string;
  to: string;
}

export function createReportsService(deps: { db: Kysely<AnalyticsTables>; maxDays: number }) {
  const { db, maxDays } = deps;

  /** from ≤ to, both real days, at most maxDays apart (inclusive). */
  function checkRange({ from, to }: Range): void {
    for (const [name, day] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (Number.isNaN(dayNumber(day)) || dayOf(dayNumber(day)) !== day) {
        throw Invalid.range(`${name} is not a day of the calendar`, `/querystring/${name}`);
      }
    }
    const span = dayNumber(to) - dayNumber(from) + 1;
    if (span < 1) throw Invalid.range('from must not be after to', '/querystring/to');
    if (span > maxDays) throw Invalid.range(`a report spans at most ${maxDays} days`, '/querystring/to');
  }

  /**
   * The courses a caller may read: an admin any (platform-wide without a course); an instructor
   * their own, and a course they do not teach is one that does not exist for them (404).
   */
  async function scopeFor(viewer: Viewer, courseId: string | undefined): Promise<Scope> {
    const platform = can(viewer.roles, 'analytics:read-platform');
    if (!courseId)
      return platform ? { kind: 'platform' } : { kind: 'instructor', instructorId: viewer.userId };
    if (!platform && !(await teaches(db, viewer.userId, courseId))) throw NotFound.course();
    return { kind: 'course', courseId };
  }

  /** The range in pages of PAGE_DAYS days, each fetched when the previous one was consumed. */
  async function* pagesOf<T>(range: Range, fetch: (page: Range) => Promise<T[]>): AsyncIterable<T[]> {
    const last = dayNumber(range.to);
    for (let start = dayNumber(range.from); start <= last; start += PAGE_DAYS) {
      yield await fetch({ from: dayOf(start), to: dayOf(Math.min(start + PAGE_DAYS - 1, last)) });
    }
  }

  return {
    checkRange,
    async sales(viewer: Viewer, range: Range, courseId?: string) {
      checkRange(range);
      const scope = await scopeFor(viewer, courseId);
      return {
        scope: scope.kind,
        data: (await salesSeries(db, scope, range.from, range.to)).map(toSalesPoint),
      };
    },
    /** The same series as `sales`, paged for streaming; scope and range checked before the first page. */
    async salesPages(viewer: Viewer, range: Range, courseId?: string): Promise<AsyncIterable<SalesPoint[]>> {
      checkRange(range);
      const scope = await scopeFor(viewer, courseId);
      return pagesOf(range, async (page) =>
        (await salesSeries(db, scope, page.from, page.to)).map(toSalesPoint),
      );
    },
    async top(viewer: Viewer, query: Omit<TopCoursesQuery, 'format'>): Promise<TopCourse[]> {
      checkRange(query);
      const scope = await scopeFor(viewer, undefined);
      const rows = await topCourses(db, scope, query, query);
      return rows.map((r) => ({
        courseId: r.course_id,
        title: r.title ?? '',
        views: r.views,
        viewerDays: r.viewer_days,
        buyers: r.buyers,
        conversion: r.viewer_days > 0 ? r.buyers / r.viewer_days : 0,
        revenue: { amount: Number(r.revenue), currency: query.currency },
        refunds: { amount: Number(r.refunds), currency: query.currency },
      }));
    },
    async engagement(range: Range): Promise<EngagementPoint[]> {
      checkRange(range);
      return (await engagement(db, range.from, range.to)).map(toEngagement);
    },
    async searchMisses(range: Range, limit: number) {
      checkRange(range);
      return searchMisses(db, range.from, range.to, limit);
    },
  };
}

export type ReportsService = ReturnType<typeof createReportsService>;
