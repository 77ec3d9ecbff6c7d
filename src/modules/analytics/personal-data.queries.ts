import { type Kysely, sql } from 'kysely';
import { isUuid } from '../../platform/ids.js';
import { type ExportSections, pagedSection } from '../../platform/personal-data.js';
import { scoreOf } from './scores.queries.js';
import type { AnalyticsTables } from './tables.js';
import { redactUrlFields } from './url-redaction.js';

type Db = Kysely<AnalyticsTables>;

const day = (d: Date): string => d.toISOString().slice(0, 10);

/**
 * Keys of a domain event's data that name someone else: the instructors of a bought course, the
 * users a comment mentions. The raw event keeps the publisher's whole data; the copy keeps ids of
 * things (courses, orders), not of other people.
 */
const OTHER_PEOPLE = new Set(['instructorIds', 'mentionedUserIds', 'ownerId', 'parentAuthorId']);

function withoutOtherPeople(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutOtherPeople);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !OTHER_PEOPLE.has(key))
      .map(([key, v]) => [key, withoutOtherPeople(v)]),
  );
}

/** A client's fields as the user may see them: URLs without credentials (rows stored before ingest redacted them). */
function clientProperties(props: unknown): unknown {
  // the parsed column is this read's own object
  if (typeof props === 'object' && props !== null && !Array.isArray(props)) redactUrlFields(props);
  return props;
}

/** The per-user course tables the export lists, with the column that holds the user. */
const COURSE_TABLE_PERSON = {
  'analytics.purchases': 'user_id',
  'analytics.owned': 'user_id',
  'analytics.course_instructors': 'instructor_id',
} as const;

/** An installation id is a personal identifier: shown so the user can recognise it, not in full. */
const maskClientId = (id: string | null): string | null =>
  id === null ? null : `${id.slice(0, 4)}…${id.length > 8 ? id.slice(-2) : ''}`;

/**
 * What analytics holds about one user as a person, for their copy of their data: the behaviour
 * events recorded as theirs (client events they sent signed in, and the domain events about them),
 * the days they were active and learned, their activity score, the order lines, purchases and
 * owned courses the recommendations use, and, for an instructor, the courses they teach and their
 * daily sales. Every read takes `db`, the inbox transaction; long sections are keyset-paged, each
 * page one short query.
 *
 * Left out: aggregates that name nobody (`daily_platform`, `daily_revenue`, `daily_course*`,
 * `daily_search_misses`, co-purchase counts) and the catalog's course copies; `event_keys`, the
 * de-duplication ids of the same client events (kept 30 days); events of an anonymous client id
 * the user later signed in with, since a shared device's events may be someone else's; and, in an
 * event's properties, other people's ids and credential-like URL parameters.
 */
export async function analyticsExportSections(db: Db, userId: string): Promise<ExportSections> {
  // an id that is not a uuid is never in a uuid column (and PostgreSQL refuses it there); the
  // raw events and active days keep the actor as text, so they are still read
  const uuid = isUuid(userId);

  const events = pagedSection(
    (after: { cursor_at: string; source: string; event_key: string } | undefined, size: number) => {
      let q = db
        .selectFrom('analytics.events')
        .select([
          'occurred_at',
          'received_at',
          'kind',
          'source',
          'client_id',
          'course_id',
          'lesson_id',
          'event_key',
          'props',
          // the exact stored time (microseconds) as the cursor, not the millisecond Date
          sql<string>`occurred_at::text`.as('cursor_at'),
        ])
        .where('actor', '=', userId);
      if (after) {
        const at = sql<Date>`${after.cursor_at}::timestamptz`;
        q = q
          // the plain bound lets the planner skip the months before the cursor
          .where('occurred_at', '>=', at)
          .where(
            sql<boolean>`(occurred_at, source, event_key) > (${at}, ${after.source}, ${after.event_key})`,
          );
      }
      return q.orderBy('occurred_at').orderBy('source').orderBy('event_key').limit(size).execute();
    },
    (e) => ({
      eventId: e.event_key,
      kind: e.kind,
      source: e.source,
      occurredAt: e.occurred_at,
      receivedAt: e.received_at,
      courseId: e.course_id,
      lessonId: e.lesson_id,
      clientId: maskClientId(e.client_id),
      properties: e.source === 'client' ? clientProperties(e.props) : withoutOtherPeople(e.props),
    }),
  );

  const activeDays = pagedSection(
    (after: { day: Date } | undefined, size: number) => {
      let q = db.selectFrom('analytics.daily_actives').select('day').where('actor', '=', userId);
      if (after) q = q.where('day', '>', sql<Date>`${day(after.day)}::date`);
      return q.orderBy('day').limit(size).execute();
    },
    (r) => day(r.day),
  );

  const dailyActivity = uuid
    ? pagedSection(
        (after: { day: Date } | undefined, size: number) => {
          let q = db
            .selectFrom('analytics.daily_user_activity')
            .select(['day', 'learning_seconds', 'interactions'])
            .where('user_id', '=', userId);
          if (after) q = q.where('day', '>', sql<Date>`${day(after.day)}::date`);
          return q.orderBy('day').limit(size).execute();
        },
        (r) => ({
          day: day(r.day),
          learningSeconds: Number(r.learning_seconds),
          interactions: r.interactions,
        }),
      )
    : [];

  const score = uuid ? await scoreOf(db, userId) : undefined;

  const orderLines = uuid
    ? pagedSection(
        (after: { cursor_at: string; order_id: string; course_id: string } | undefined, size: number) => {
          let q = db
            .selectFrom('analytics.order_lines')
            .select([
              'order_id',
              'course_id',
              'amount',
              'currency',
              'paid_at',
              sql<string>`paid_at::text`.as('cursor_at'),
            ])
            .where('user_id', '=', userId);
          if (after) {
            q = q.where(
              sql<boolean>`(paid_at, order_id, course_id)
                > (${after.cursor_at}::timestamptz, ${after.order_id}::uuid, ${after.course_id}::uuid)`,
            );
          }
          return q.orderBy('paid_at').orderBy('order_id').orderBy('course_id').limit(size).execute();
        },
        (r) => ({
          orderId: r.order_id,
          courseId: r.course_id,
          amount: Number(r.amount),
          currency: r.currency,
          paidAt: r.paid_at,
        }),
      )
    : [];

  /** The user's course ids in one of the per-user course tables, by course id. */
  const courseIds = (table: keyof typeof COURSE_TABLE_PERSON) =>
    uuid
      ? pagedSection(
          (after: { course_id: string } | undefined, size: number) => {
            let q = db
              .selectFrom(table)
              .select('course_id')
              .where(sql.ref(COURSE_TABLE_PERSON[table]), '=', userId);
            if (after) q = q.where('course_id', '>', after.course_id);
            return q.orderBy('course_id').limit(size).execute();
          },
          (r) => ({ courseId: r.course_id }),
        )
      : [];

  const instructorSales = uuid
    ? pagedSection(
        (after: { day: Date; currency: string } | undefined, size: number) => {
          let q = db
            .selectFrom('analytics.daily_instructor_sales')
            .select(['day', 'currency', 'orders', 'revenue', 'refunds'])
            .where('instructor_id', '=', userId);
          if (after) {
            q = q.where(sql<boolean>`(day, currency) > (${day(after.day)}::date, ${after.currency})`);
          }
          return q.orderBy('day').orderBy('currency').limit(size).execute();
        },
        (r) => ({
          day: day(r.day),
          currency: r.currency,
          orders: r.orders,
          revenue: Number(r.revenue),
          refunds: Number(r.refunds),
        }),
      )
    : [];

  return {
    events,
    activeDays,
    dailyActivity,
    activityScore: score
      ? {
          windowEnd: day(score.window_end),
          score: score.score,
          rank: score.rank,
          activeDays: score.active_days,
          learningMinutes: score.learning_minutes,
          interactions: score.interactions,
          components: { a: score.a, b: score.b, c: score.c },
        }
      : null,
    orderLines,
    purchasedCourses: courseIds('analytics.purchases'),
    ownedCourses: courseIds('analytics.owned'),
    teachingCourses: courseIds('analytics.course_instructors'),
    instructorSales,
  };
}
