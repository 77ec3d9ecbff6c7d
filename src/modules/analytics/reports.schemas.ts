import { type Static, Type } from 'typebox';
import { MoneySchema, Uuid } from '../../platform/http/schemas.js';

/** A UTC day, `YYYY-MM-DD`. */
const Day = Type.String({ format: 'date', description: 'A UTC day, YYYY-MM-DD' });
const Format = Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('svg')], {
  default: 'json',
  description: 'json; csv (text/csv, streamed); svg (image/svg+xml, the same series as a chart)',
});

export const RangeQuery = Type.Object({ from: Day, to: Day });

export const SalesQuery = Type.Object({
  ...RangeQuery.properties,
  courseId: Type.Optional(Uuid),
  format: Format,
});
export type SalesQuery = Static<typeof SalesQuery>;

export const SalesPoint = Type.Object({
  day: Day,
  currency: Type.String(),
  /** Paid orders (platform-wide), or paid order lines of the courses in scope. */
  orders: Type.Integer(),
  revenue: MoneySchema,
  refunds: MoneySchema,
});
export type SalesPoint = Static<typeof SalesPoint>;
export const SalesSeries = Type.Object({
  scope: Type.Union([Type.Literal('platform'), Type.Literal('instructor'), Type.Literal('course')]),
  data: Type.Array(SalesPoint),
});

export const TopCoursesQuery = Type.Object({
  ...RangeQuery.properties,
  by: Type.Union([Type.Literal('revenue'), Type.Literal('buyers'), Type.Literal('views')], {
    default: 'revenue',
  }),
  currency: Type.String({
    pattern: '^[A-Z]{3}$',
    default: 'CNY',
    description: 'The currency revenue is ranked in',
  }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  format: Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json' }),
});
export type TopCoursesQuery = Static<typeof TopCoursesQuery>;

export const TopCourse = Type.Object({
  courseId: Uuid,
  title: Type.String(),
  views: Type.Integer(),
  /** Distinct viewers per day, summed over the range. */
  viewerDays: Type.Integer(),
  buyers: Type.Integer(),
  /** buyers / viewerDays, 0 without viewers. */
  conversion: Type.Number(),
  revenue: MoneySchema,
  refunds: MoneySchema,
});
export type TopCourse = Static<typeof TopCourse>;
export const TopCourses = Type.Object({ data: Type.Array(TopCourse) });

export const EngagementQuery = Type.Object({ ...RangeQuery.properties, format: Format });
export const EngagementPoint = Type.Object({
  day: Day,
  newUsers: Type.Integer(),
  dau: Type.Integer(),
  /** Distinct actors over the 7 days to this one. */
  wau: Type.Integer(),
  /** Distinct actors over the 30 days to this one. */
  mau: Type.Integer(),
  courseViews: Type.Integer(),
  learningMinutes: Type.Number(),
  enrolments: Type.Integer(),
  completions: Type.Integer(),
  searches: Type.Integer(),
  searchesWithoutResults: Type.Integer(),
});
export type EngagementPoint = Static<typeof EngagementPoint>;
export const Engagement = Type.Object({ data: Type.Array(EngagementPoint) });

export const SearchMissesQuery = Type.Object({
  ...RangeQuery.properties,
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
});
export const SearchMisses = Type.Object({
  data: Type.Array(Type.Object({ term: Type.String(), searches: Type.Integer() })),
});
