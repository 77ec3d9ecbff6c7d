import type { ColumnType } from 'kysely';

type Stamp = ColumnType<Date, Date | string, Date | string>;
/** A UTC day; PostgreSQL `date` comes back as a Date at midnight UTC. */
type Day = ColumnType<Date, string, string>;
/** bigint columns come back from node-postgres as strings. */
type Big = ColumnType<string, number | string, number | string>;

export type EventSource = 'client' | 'domain';

export interface EventTable {
  occurred_at: Stamp;
  received_at: Stamp;
  kind: string;
  source: EventSource;
  /** The user id, or `anon:<client id>` for a client that is not signed in. */
  actor: string;
  user_id: string | null;
  client_id: string | null;
  course_id: string | null;
  lesson_id: string | null;
  /** The client's event id, or the domain event's envelope id. */
  event_key: string;
  props: ColumnType<unknown, string, string>;
}

export type AnalyticsTables = {
  'analytics.events': EventTable;
  'analytics.event_keys': { actor: string; event_key: string; received_at: Stamp };
  'analytics.dirty_days': { day: Day };
  'analytics.order_lines': {
    order_id: string;
    course_id: string;
    user_id: string;
    amount: Big;
    currency: string;
    instructor_ids: string[];
    paid_at: Stamp;
  };
  'analytics.purchases': { user_id: string; course_id: string };
  'analytics.owned': { user_id: string; course_id: string };
  'analytics.courses': {
    course_id: string;
    title: string;
    status: string;
    category_id: string | null;
    /** How many rows of `course_tags` the course has. */
    tag_count: ColumnType<number, number | undefined, number>;
    price_amount: Big;
    currency: string;
    /**
     * When the catalog event whose facts the row holds happened (null: copied before this was
     * kept); an older event arriving later (a redelivery) changes nothing.
     */
    facts_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  };
  'analytics.categories': { category_id: string; name: string };
  'analytics.course_tags': { course_id: string; tag: string };
  'analytics.course_instructors': { course_id: string; instructor_id: string };
  'analytics.course_buyers': { course_id: string; buyers: number };
  'analytics.copurchases': { course_a: string; course_b: string; buyers: number };
  'analytics.daily_actives': { day: Day; actor: string; user_id: string | null };
  'analytics.daily_user_activity': { day: Day; user_id: string; learning_seconds: Big; interactions: number };
  'analytics.daily_platform': {
    day: Day;
    new_users: number;
    dau: number;
    course_views: number;
    learning_seconds: Big;
    enrolments: number;
    completions: number;
    searches: number;
    searches_without_results: number;
  };
  'analytics.daily_revenue': { day: Day; currency: string; orders: number; revenue: Big; refunds: Big };
  'analytics.daily_course': {
    day: Day;
    course_id: string;
    views: number;
    viewers: number;
    buyers: number;
    enrolments: number;
    completions: number;
    learning_seconds: Big;
  };
  'analytics.daily_course_sales': {
    day: Day;
    course_id: string;
    currency: string;
    orders: number;
    revenue: Big;
    refunds: Big;
  };
  'analytics.daily_instructor_sales': {
    day: Day;
    instructor_id: string;
    currency: string;
    orders: number;
    revenue: Big;
    refunds: Big;
  };
  'analytics.daily_search_misses': { day: Day; term: string; searches: number };
  'analytics.scores': {
    user_id: string;
    window_end: Day;
    active_days: number;
    learning_minutes: number;
    interactions: number;
    a: number;
    b: number;
    c: number;
    score: number;
    rank: number;
  };
};
