import type { Kysely } from 'kysely';
import { type ExportSections, pagedSection } from '../../platform/personal-data.js';
import { deliveryLog } from './delivery.queries.js';
import { isKind, type Kind } from './kinds.js';
import { findRecipient } from './preferences.queries.js';
import { quietHoursView } from './preferences.service.js';
import { maskPhone } from './sms.js';
import type { Channel, NotifyTables } from './tables.js';

type Db = Kysely<NotifyTables>;

/**
 * What notify holds about one user as a person, for their copy of their personal data (PIPL
 * Art. 45): their own rows only, read with the handle given (the inbox transaction). Long sections
 * are streams of keyset pages, read while the part is written.
 *
 * Left out on purpose: the phone in full (masked, as notify's logs show it); delivery error texts
 * and log reasons (the mail server's or SMS provider's words, not facts about the person; statuses
 * and dates say what happened); dedupe keys and source event ids (internal bookkeeping); fan-outs
 * (a segment and a position, about no one person: what reached the user is in their inbox); and
 * other people's texts inside notifications (see EXPORTED_PAYLOAD).
 */
export async function notifyPersonalData(
  db: Db,
  userId: string,
  /** Rows per page of the long sections (tests walk several pages with a small one). */
  pageSize = 1000,
): Promise<ExportSections> {
  return {
    recipient: await recipientOf(db, userId),
    preferences: await preferencesOf(db, userId),
    notifications: pagedSection(
      (after, size) => notificationsPage(db, userId, after, size),
      toNotification,
      pageSize,
    ),
    deliveries: pagedSection((after, size) => deliveriesPage(db, userId, after, size), toDelivery, pageSize),
    entitlements: pagedSection(
      (after, size) => entitlementsPage(db, userId, after, size),
      (row: { course_id: string }) => ({ courseId: row.course_id }),
      pageSize,
    ),
  };
}

const iso = (value: Date | string): string => new Date(value).toISOString();
const isoOrNull = (value: Date | string | null): string | null => (value === null ? null : iso(value));

/** Notify's copy of how to reach them: address and name from their account, the rest their own settings. */
async function recipientOf(db: Db, userId: string) {
  const row = await findRecipient(db, userId);
  if (!row) return null;
  return {
    email: row.email,
    displayName: row.display_name,
    locale: row.locale,
    phone: row.phone === null ? null : maskPhone(row.phone),
    quietHours: quietHoursView(row),
    roles: row.roles,
    updatedAt: iso(row.updated_at),
  };
}

/**
 * The switches they set (kind × channel); a kind they never touched follows its default and has
 * no row. At most one row per kind and channel, so one query.
 */
async function preferencesOf(db: Db, userId: string) {
  const rows = await db
    .selectFrom('notify.preferences')
    .select(['kind', 'channel', 'enabled'])
    .where('user_id', '=', userId)
    .orderBy('kind')
    .orderBy('channel')
    .execute();
  return rows.map((r) => ({ kind: r.kind, channel: r.channel, enabled: r.enabled }));
}

/**
 * The payload fields of each kind that go into the part. Left out: another person's text (a
 * reply's excerpt is its author's words; a reviewer's note or rejection reason is the reviewer's,
 * and identity's and catalog's parts hold those decisions). Keyed by every kind, so a new kind does
 * not compile until someone decides what of it is the user's.
 */
const EXPORTED_PAYLOAD: Record<Kind, readonly string[]> = {
  welcome: ['displayName'],
  order_receipt: ['orderId', 'total', 'currency', 'paidAt', 'lines'],
  refund_processed: ['orderId', 'refundId', 'amount', 'currency', 'orderStatus'],
  // the payout's own facts, as commerce's part has them (its rejection reason included); the
  // deciding admin is not in the payload
  payout_paid: ['payoutId', 'amount', 'currency', 'reference', 'paidAt'],
  payout_rejected: ['payoutId', 'amount', 'currency', 'reason', 'rejectedAt'],
  password_reset_requested: ['expiresAt'],
  new_device_sign_in: ['userAgent', 'ip', 'at'],
  instructor_approved: ['displayName'],
  instructor_rejected: [],
  course_published: ['courseId', 'title'],
  course_rejected: ['courseId', 'title'],
  certificate_issued: ['courseId', 'courseTitle', 'verificationId'],
  // titles are the catalog's public names of the course and lesson
  comment_replied: ['commentId', 'parentId', 'lessonId', 'courseTitle', 'lessonTitle'],
  comment_mentioned: ['commentId', 'parentId', 'lessonId', 'courseId', 'courseTitle', 'lessonTitle'],
  lesson_question: ['commentId', 'lessonId', 'courseId', 'courseTitle', 'lessonTitle'],
  // the rating is shown on the course's page to anyone; the review's text is not in the payload
  course_reviewed: ['reviewId', 'courseId', 'rating', 'courseTitle'],
  course_updated: ['courseId', 'changes'],
  course_digest: ['day', 'items'],
  announcement: ['title', 'body'],
};

function exportedPayload(kind: string, payload: unknown): Record<string, unknown> {
  // a kind this code no longer knows may carry anything: its name and dates only
  if (!isKind(kind) || typeof payload !== 'object' || payload === null) return {};
  const fields = payload as Record<string, unknown>;
  return Object.fromEntries(EXPORTED_PAYLOAD[kind].filter((f) => f in fields).map((f) => [f, fields[f]]));
}

// Each page is ordered by a key unique among the user's rows and resumes strictly after the last
// row of the page before, so no row is read twice or skipped between pages.

interface NotificationRow {
  id: string;
  kind: string;
  payload: unknown;
  read_at: Date | null;
  created_at: Date;
}

/** Their inbox, oldest first (the inbox index, read backwards). */
function notificationsPage(
  db: Db,
  userId: string,
  after: NotificationRow | undefined,
  size: number,
): Promise<NotificationRow[]> {
  let q = db
    .selectFrom('notify.notifications')
    .select(['id', 'kind', 'payload', 'read_at', 'created_at'])
    .where('recipient_id', '=', userId);
  if (after) {
    q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(after.created_at, after.id)));
  }
  return q.orderBy('created_at').orderBy('id').limit(size).execute();
}

const toNotification = (row: NotificationRow) => ({
  id: row.id,
  kind: row.kind,
  createdAt: iso(row.created_at),
  readAt: isoOrNull(row.read_at),
  data: exportedPayload(row.kind, row.payload),
});

interface DeliveryRow {
  id: string;
  notification_id: string;
  notification_created_at: Date;
  kind: string;
  channel: Channel;
  status: string;
  attempts: number;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
}

type HistoryRow = Awaited<ReturnType<typeof deliveryLog>>[number];

/**
 * Their emails and SMS, in the order of their notifications (notification, then channel: unique by
 * `deliveries_once`), each with its log of states. Walked through their notifications, so the
 * inbox index finds them; the page's log is one more query on the log's delivery index.
 */
async function deliveriesPage(
  db: Db,
  userId: string,
  after: { delivery: DeliveryRow } | undefined,
  size: number,
): Promise<{ delivery: DeliveryRow; history: HistoryRow[] }[]> {
  let q = db
    .selectFrom('notify.notifications as n')
    .innerJoin('notify.deliveries as d', 'd.notification_id', 'n.id')
    .select([
      'd.id',
      'd.notification_id',
      'n.created_at as notification_created_at',
      'n.kind',
      'd.channel',
      'd.status',
      'd.attempts',
      'd.created_at',
      'd.updated_at',
      'd.sent_at',
    ])
    .where('n.recipient_id', '=', userId)
    .where('d.recipient_id', '=', userId);
  if (after) {
    const last = after.delivery;
    q = q.where((eb) =>
      eb(
        eb.refTuple('n.created_at', 'n.id', 'd.channel'),
        '>',
        eb.tuple(last.notification_created_at, last.notification_id, last.channel),
      ),
    );
  }
  const deliveries = await q
    .orderBy('n.created_at')
    .orderBy('n.id')
    .orderBy('d.channel')
    .limit(size)
    .execute();
  const log = await deliveryLog(
    db,
    deliveries.map((d) => d.id),
  );
  return deliveries.map((delivery) => ({
    delivery,
    history: log.filter((l) => l.delivery_id === delivery.id),
  }));
}

const toDelivery = ({ delivery: row, history }: { delivery: DeliveryRow; history: HistoryRow[] }) => ({
  id: row.id,
  notificationId: row.notification_id,
  // the template is the notification's kind (in the recipient's locale)
  template: row.kind,
  channel: row.channel,
  status: row.status,
  attempts: row.attempts,
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
  sentAt: isoOrNull(row.sent_at),
  history: history.map((h) => ({ status: h.status, at: iso(h.at) })),
});

/** Notify's copy of the courses they may learn (what course-update fan-outs reach them by). */
function entitlementsPage(db: Db, userId: string, after: { course_id: string } | undefined, size: number) {
  let q = db.selectFrom('notify.entitlements').select(['course_id']).where('user_id', '=', userId);
  if (after) q = q.where('course_id', '>', after.course_id);
  return q.orderBy('course_id').limit(size).execute();
}
