import type { ColumnType, Generated } from 'kysely';

type Stamp = ColumnType<Date, Date | string, Date | string>;
type NullableStamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json = ColumnType<unknown, string, string>;

export const CHANNELS = ['email', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];

export const DELIVERY_STATUSES = ['queued', 'sent', 'failed', 'dead', 'skipped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface NotificationTable {
  id: string;
  recipient_id: string;
  kind: string;
  payload: Json;
  source_event_id: string | null;
  /** Unique per recipient and kind: the same source never makes a second notification. */
  dedupe_key: string;
  read_at: NullableStamp;
  created_at: Stamp;
}

/** One outside channel (email, SMS) of a notification; the in-app inbox is the notification itself. */
export interface DeliveryTable {
  id: string;
  notification_id: string;
  recipient_id: string;
  channel: Channel;
  status: DeliveryStatus;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: Stamp;
  updated_at: Stamp;
  sent_at: NullableStamp;
}

export interface DeliveryLogTable {
  seq: Generated<string>;
  delivery_id: string;
  status: string;
  reason: string | null;
  at: Stamp;
}

/** Notify's copy of what it needs to reach a person: address from identity's events, the rest the user's own. */
export interface RecipientTable {
  user_id: string;
  email: string | null;
  display_name: string | null;
  phone: string | null;
  locale: string | null;
  roles: ColumnType<string[], string[] | undefined, string[]>;
  /** Minutes after local midnight; both null when the user has no quiet hours. */
  quiet_start: number | null;
  quiet_end: number | null;
  time_zone: string | null;
  updated_at: Stamp;
}

export interface PreferenceTable {
  user_id: string;
  kind: string;
  channel: string;
  enabled: boolean;
}

/** Copy of learning's entitlements, for the course-update fan-out. */
export interface EntitlementTable {
  course_id: string;
  user_id: string;
}

export interface FanoutTable {
  id: string;
  source_event_id: string;
  kind: string;
  payload: Json;
  segment: Json;
  /** Keyset position: every recipient up to this user id has been given the notification. */
  after_user_id: string | null;
  reached: Generated<number>;
  status: 'running' | 'done';
  created_at: Stamp;
  finished_at: NullableStamp;
}

export type NotifyTables = {
  'notify.notifications': NotificationTable;
  'notify.deliveries': DeliveryTable;
  'notify.delivery_log': DeliveryLogTable;
  'notify.recipients': RecipientTable;
  'notify.preferences': PreferenceTable;
  'notify.entitlements': EntitlementTable;
  'notify.fanouts': FanoutTable;
};
