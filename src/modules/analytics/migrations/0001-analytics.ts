import { type Kysely, sql } from 'kysely';
import { createMonthPartitions } from '../partitions.queries.js';

/** Months of partitions made at install, before and after the current month (see CONTEXT.md). */
const MONTHS_BEFORE = 24;
const MONTHS_AHEAD = 3;

/**
 * Raw events (partitioned by month), the de-duplication keys of client events, read copies of
 * other modules' facts (orders, ownership, courses), daily aggregates, scores and co-purchases.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Raw events: one row per client or domain event, partitioned by the month it happened in.
  // No primary key: a unique index on a partitioned table must contain occurred_at, which a
  // retry may not repeat exactly, so client de-duplication lives in event_keys (one table).
  await sql`
    create table analytics.events (
      occurred_at timestamptz not null,
      received_at timestamptz not null,
      kind text not null,
      source text not null check (source in ('client', 'domain')),
      actor text not null,
      user_id uuid,
      client_id text,
      course_id uuid,
      lesson_id uuid,
      event_key text not null,
      props jsonb not null default '{}'
    ) partition by range (occurred_at)`.execute(db);
  // BRIN: rows arrive roughly in time order, so a day's rows sit in few block ranges, and the
  // index costs next to nothing on the ingestion path
  await sql`create index events_occurred_brin on analytics.events using brin (occurred_at)`.execute(db);
  // events whose time falls outside every monthly partition (a replayed old domain event)
  await sql`create table analytics.events_default partition of analytics.events default`.execute(db);
  const now = new Date();
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - MONTHS_BEFORE, 1));
  await createMonthPartitions(db, first, MONTHS_BEFORE + MONTHS_AHEAD + 1);

  await sql`
    create table analytics.event_keys (
      actor text not null,
      event_key text not null,
      received_at timestamptz not null,
      primary key (actor, event_key)
    )`.execute(db);
  await sql`create index event_keys_received_idx on analytics.event_keys (received_at)`.execute(db);

  // days whose aggregates are out of date; ingestion marks, the refresh job clears
  await sql`create table analytics.dirty_days (day date primary key)`.execute(db);

  // read copies of other modules' facts, from their events
  await sql`
    create table analytics.order_lines (
      order_id uuid not null,
      course_id uuid not null,
      user_id uuid not null,
      amount bigint not null,
      currency text not null,
      instructor_ids uuid[] not null,
      paid_at timestamptz not null,
      primary key (order_id, course_id)
    )`.execute(db);
  await sql`create table analytics.purchases (user_id uuid not null, course_id uuid not null, primary key (user_id, course_id))`.execute(
    db,
  );
  await sql`create table analytics.owned (user_id uuid not null, course_id uuid not null, primary key (user_id, course_id))`.execute(
    db,
  );
  await sql`
    create table analytics.courses (
      course_id uuid primary key,
      title text not null,
      status text not null,
      category_id uuid,
      price_amount bigint not null,
      currency text not null
    )`.execute(db);
  await sql`create table analytics.categories (category_id uuid primary key, name text not null)`.execute(db);
  await sql`
    create table analytics.course_instructors (
      course_id uuid not null,
      instructor_id uuid not null,
      primary key (course_id, instructor_id)
    )`.execute(db);
  await sql`create index course_instructors_instructor_idx on analytics.course_instructors (instructor_id, course_id)`.execute(
    db,
  );

  // co-purchase counts, maintained per paid order and refund
  await sql`create table analytics.course_buyers (course_id uuid primary key, buyers integer not null)`.execute(
    db,
  );
  await sql`
    create table analytics.copurchases (
      course_a uuid not null,
      course_b uuid not null,
      buyers integer not null,
      primary key (course_a, course_b)
    )`.execute(db);

  // daily aggregates: each day is rebuilt as a whole from raw events (delete + insert)
  await sql`create table analytics.daily_actives (day date not null, actor text not null, user_id uuid, primary key (day, actor))`.execute(
    db,
  );
  await sql`
    create table analytics.daily_user_activity (
      day date not null,
      user_id uuid not null,
      learning_seconds bigint not null,
      interactions integer not null,
      primary key (day, user_id)
    )`.execute(db);
  await sql`create index daily_user_activity_user_idx on analytics.daily_user_activity (user_id, day)`.execute(
    db,
  );
  await sql`
    create table analytics.daily_platform (
      day date primary key,
      new_users integer not null,
      dau integer not null,
      course_views integer not null,
      learning_seconds bigint not null,
      enrolments integer not null,
      completions integer not null,
      searches integer not null,
      searches_without_results integer not null
    )`.execute(db);
  await sql`
    create table analytics.daily_revenue (
      day date not null,
      currency text not null,
      orders integer not null,
      revenue bigint not null,
      refunds bigint not null,
      primary key (day, currency)
    )`.execute(db);
  await sql`
    create table analytics.daily_course (
      day date not null,
      course_id uuid not null,
      views integer not null,
      viewers integer not null,
      buyers integer not null,
      enrolments integer not null,
      completions integer not null,
      learning_seconds bigint not null,
      primary key (day, course_id)
    )`.execute(db);
  await sql`
    create table analytics.daily_course_sales (
      day date not null,
      course_id uuid not null,
      currency text not null,
      orders integer not null,
      revenue bigint not null,
      refunds bigint not null,
      primary key (day, course_id, currency)
    )`.execute(db);
  await sql`create index daily_course_sales_course_idx on analytics.daily_course_sales (course_id, day)`.execute(
    db,
  );
  await sql`
    create table analytics.daily_instructor_sales (
      day date not null,
      instructor_id uuid not null,
      currency text not null,
      orders integer not null,
      revenue bigint not null,
      refunds bigint not null,
      primary key (day, instructor_id, currency)
    )`.execute(db);
  await sql`
    create table analytics.daily_search_misses (
      day date not null,
      term text not null,
      searches integer not null,
      primary key (day, term)
    )`.execute(db);

  // the activity score of each user over the last window, with its components and rank
  await sql`
    create table analytics.scores (
      user_id uuid primary key,
      window_end date not null,
      active_days integer not null,
      learning_minutes double precision not null,
      interactions integer not null,
      a double precision not null,
      b double precision not null,
      c double precision not null,
      score double precision not null,
      rank integer not null
    )`.execute(db);
  await sql`create index scores_rank_idx on analytics.scores (rank, user_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'scores',
    'daily_search_misses',
    'daily_instructor_sales',
    'daily_course_sales',
    'daily_course',
    'daily_revenue',
    'daily_platform',
    'daily_user_activity',
    'daily_actives',
    'copurchases',
    'course_buyers',
    'course_instructors',
    'categories',
    'courses',
    'owned',
    'purchases',
    'order_lines',
    'dirty_days',
    'event_keys',
    'events',
  ]) {
    await sql`drop table if exists ${sql.table(`analytics.${table}`)} cascade`.execute(db);
  }
}
