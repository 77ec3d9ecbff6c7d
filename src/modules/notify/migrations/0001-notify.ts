import { type Kysely, sql } from 'kysely';

/**
 * Ids that come from other modules' events (users, courses) are `text`: an id is whatever the
 * publisher's schema allows, and a copy must never refuse an event its owner accepted.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table notify.notifications (
      id uuid primary key,
      recipient_id text not null,
      kind text not null,
      payload jsonb not null,
      source_event_id text,
      dedupe_key text not null,
      read_at timestamptz(3),
      created_at timestamptz(3) not null,
      constraint notifications_dedupe unique (recipient_id, kind, dedupe_key)
    )`.execute(db);
  await sql`create index notifications_inbox_idx on notify.notifications (recipient_id, created_at desc, id desc)`.execute(
    db,
  );
  await sql`create index notifications_unread_idx on notify.notifications (recipient_id) where read_at is null`.execute(
    db,
  );

  await sql`
    create table notify.deliveries (
      id uuid primary key,
      notification_id uuid not null references notify.notifications (id) on delete cascade,
      recipient_id text not null,
      channel text not null check (channel in ('email', 'sms')),
      status text not null check (status in ('queued', 'sent', 'failed', 'dead', 'skipped')),
      attempts integer not null default 0,
      last_error text,
      created_at timestamptz(3) not null,
      updated_at timestamptz(3) not null,
      sent_at timestamptz(3),
      constraint deliveries_once unique (notification_id, channel)
    )`.execute(db);
  await sql`create index deliveries_status_idx on notify.deliveries (status, updated_at desc, id desc)`.execute(
    db,
  );
  await sql`create index deliveries_recipient_sent_idx on notify.deliveries (recipient_id, channel, sent_at) where status = 'sent'`.execute(
    db,
  );

  await sql`
    create table notify.delivery_log (
      seq bigserial primary key,
      delivery_id uuid not null references notify.deliveries (id) on delete cascade,
      status text not null,
      reason text,
      at timestamptz(3) not null
    )`.execute(db);
  await sql`create index delivery_log_delivery_idx on notify.delivery_log (delivery_id, seq)`.execute(db);

  await sql`
    create table notify.recipients (
      user_id text primary key,
      email text,
      display_name text,
      phone text,
      locale text,
      roles text[] not null default '{}',
      quiet_start smallint,
      quiet_end smallint,
      time_zone text,
      updated_at timestamptz(3) not null
    )`.execute(db);

  await sql`
    create table notify.preferences (
      user_id text not null,
      kind text not null,
      channel text not null,
      enabled boolean not null,
      primary key (user_id, kind, channel)
    )`.execute(db);

  await sql`
    create table notify.entitlements (
      course_id text not null,
      user_id text not null,
      primary key (course_id, user_id)
    )`.execute(db);

  await sql`
    create table notify.fanouts (
      id uuid primary key,
      source_event_id text not null unique,
      kind text not null,
      payload jsonb not null,
      segment jsonb not null,
      after_user_id text,
      reached integer not null default 0,
      status text not null check (status in ('running', 'done')),
      created_at timestamptz(3) not null,
      finished_at timestamptz(3)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'fanouts',
    'entitlements',
    'preferences',
    'recipients',
    'delivery_log',
    'deliveries',
    'notifications',
  ]) {
    await sql`drop table if exists ${sql.table(`notify.${table}`)}`.execute(db);
  }
}
