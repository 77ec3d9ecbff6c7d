import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { type Page, toPage } from '../../platform/http/pagination.js';
import type { Mailer } from '../../platform/mail/mailer.js';
import type { IdentityDirectory } from '../identity/index.js';
import {
  claimDelivery,
  deliveryLog,
  findDelivery,
  findDeliveryToSend,
  insertDeliveries,
  listDeliveries,
  sentSince,
  setDeliveryStatus,
} from './delivery.queries.js';
import { insertNotifications, type NewNotificationRow } from './inbox.queries.js';
import { isKind, type Kind, ruleOf } from './kinds.js';
import type { LiveItem } from './live.js';
import { deliveryNotFound, deliveryNotRetryable } from './notify.errors.js';
import { findPreferences, findRecipient, findRecipients, upsertRecipient } from './preferences.queries.js';
import { backoffSeconds, quietUntil } from './schedule.js';
import type { SmsSender } from './sms.js';
import type { Channel, DeliveryStatus, NotifyTables } from './tables.js';
import { isLocale, render } from './templates.js';

type Db = Kysely<NotifyTables>;

/** A notification to create: one person, one kind, one source (the dedupe key). */
export interface NotificationInput {
  recipientId: string;
  kind: Kind;
  payload: Record<string, unknown>;
  /** Same key, same recipient and kind: created once, however often the source is handled. */
  dedupeKey: string;
  sourceEventId?: string | undefined;
}

/**
 * Sends delivery jobs in the caller's transaction (each job exists exactly when its delivery
 * does): all of them in one statement, so a batch of notifications costs one insert of jobs.
 */
export type DeliveryQueue = (
  db: Db,
  jobs: readonly { deliveryId: string; startAfter?: Date | undefined }[],
) => Promise<void>;

export interface DeliveryPolicy {
  maxAttempts: number;
  retryBaseSeconds: number;
  ratePerHour: number;
}

export interface DeliveryView {
  id: string;
  notificationId: string;
  recipientId: string;
  kind: string;
  channel: Channel;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  updatedAt: string;
  log: { status: string; reason: string | null; at: string }[];
}

const ADDRESS_MISSING = 'no address for this channel';

/**
 * Creating notifications (the inbox row, and a delivery per outside channel the person wants)
 * and sending those deliveries: one try per job, failures retried with backoff, dead after
 * `maxAttempts` for an admin to retry. Every state change is logged.
 */
export function createDeliveryService(deps: {
  db: Db;
  clock: Clock;
  mailer: Mailer;
  sms: SmsSender;
  identity?: IdentityDirectory | undefined;
  queue: DeliveryQueue;
  policy: DeliveryPolicy;
  logger: Logger;
  random?: () => number;
}) {
  const { db, clock, queue, policy, logger } = deps;

  /**
   * Inside the caller's transaction: insert the notifications (duplicates skipped), and queue
   * the outside channels each person has on. Returns the new items for the live stream, which
   * the caller publishes after its commit.
   */
  async function create(trx: Db, inputs: NotificationInput[]): Promise<LiveItem[]> {
    if (inputs.length === 0) return [];
    const now = clock();
    const rows: NewNotificationRow[] = inputs.map((i) => ({
      id: randomUUID(),
      recipient_id: i.recipientId,
      kind: i.kind,
      payload: i.payload,
      source_event_id: i.sourceEventId ?? null,
      dedupe_key: i.dedupeKey,
      created_at: now,
    }));
    const inserted = await insertNotifications(trx, rows);
    if (inserted.length === 0) return [];

    const withChannels = inserted.filter((n) => isKind(n.kind) && ruleOf(n.kind).channels.length > 0);
    if (withChannels.length > 0) {
      const userIds = [...new Set(withChannels.map((n) => n.recipient_id))];
      const kinds = [...new Set(withChannels.map((n) => n.kind))];
      const prefs = await findPreferences(trx, userIds, kinds);
      const chosen = new Map(prefs.map((p) => [`${p.user_id}|${p.kind}|${p.channel}`, p.enabled]));
      const recipients = new Map((await findRecipients(trx, userIds)).map((r) => [r.user_id, r]));
      const deliveries: { id: string; notification_id: string; recipient_id: string; channel: Channel }[] =
        [];
      const jobs: { deliveryId: string; startAfter?: Date | undefined }[] = [];
      for (const n of withChannels) {
        const kind = n.kind as Kind;
        const rule = ruleOf(kind);
        const recipient = recipients.get(n.recipient_id);
        for (const channel of rule.channels) {
          const on = rule.transactional
            ? rule.defaultOn.includes(channel) || chosen.get(`${n.recipient_id}|${kind}|${channel}`) === true
            : (chosen.get(`${n.recipient_id}|${kind}|${channel}`) ?? rule.defaultOn.includes(channel));
          if (!on) continue;
          const id = randomUUID();
          deliveries.push({ id, notification_id: n.id, recipient_id: n.recipient_id, channel });
          const quiet =
            !rule.urgent &&
            recipient?.quiet_start != null &&
            recipient.quiet_end != null &&
            recipient.time_zone
              ? quietUntil(now, {
                  start: recipient.quiet_start,
                  end: recipient.quiet_end,
                  timeZone: recipient.time_zone,
                })
              : undefined;
          jobs.push({ deliveryId: id, startAfter: quiet });
        }
      }
      await insertDeliveries(trx, deliveries, now);
      await queue(trx, jobs);
    }
    return inserted.map((n) => ({
      recipientId: n.recipient_id,
      id: n.id,
      kind: n.kind,
      payload: n.payload as Record<string, unknown>,
      createdAt: new Date(n.created_at).toISOString(),
    }));
  }

  /**
   * The address of this person on this channel: notify's copy (`known`, read with the delivery:
   * all null when notify has none), else identity's answer (kept).
   */
  async function addressOf(
    userId: string,
    channel: Channel,
    known: { email: string | null; phone: string | null; locale: string | null },
  ) {
    let recipient: typeof known | undefined = known;
    if (channel === 'email' && !known.email && deps.identity) {
      const user = await deps.identity.getUser(userId);
      // a closed account has no address any more, only identity's stand-in
      if (user && user.status !== 'closed') {
        await upsertRecipient(db, userId, { email: user.email, display_name: user.displayName }, clock());
        recipient = await findRecipient(db, userId);
      }
    }
    const locale = isLocale(recipient?.locale) ? recipient.locale : 'en';
    return { address: channel === 'email' ? recipient?.email : recipient?.phone, locale };
  }

  async function fail(id: string, attempts: number, reason: string): Promise<void> {
    const at = clock();
    await inTransaction(db, async (trx) => {
      if (attempts >= policy.maxAttempts) {
        await setDeliveryStatus(trx, id, 'dead', { reason, at });
        return;
      }
      await setDeliveryStatus(trx, id, 'failed', { reason, at });
      const delay = backoffSeconds(attempts, policy.retryBaseSeconds, deps.random);
      await queue(trx, [{ deliveryId: id, startAfter: new Date(at.getTime() + delay * 1000) }]);
    });
  }

  /** One try of one delivery (the job's handler). Already sent, dead or taken: nothing happens. */
  async function run(deliveryId: string): Promise<void> {
    const delivery = await findDeliveryToSend(db, deliveryId);
    if (!delivery || (delivery.status !== 'queued' && delivery.status !== 'failed')) return;
    if (!isKind(delivery.kind)) {
      await setDeliveryStatus(db, deliveryId, 'skipped', { reason: 'unknown kind', at: clock() });
      return;
    }
    const rule = ruleOf(delivery.kind);
    if (!rule.transactional) {
      const now = clock();
      const window = await sentSince(
        db,
        delivery.recipient_id,
        delivery.channel,
        new Date(now.getTime() - 3600_000),
      );
      if (window.count >= policy.ratePerHour) {
        // over the limit: wait until the oldest send leaves the hour, then try again (delay, not drop)
        const until = new Date((window.oldest ?? now).getTime() + 3600_000 + 1000);
        await inTransaction(db, async (trx) => {
          await setDeliveryStatus(trx, deliveryId, 'queued', { reason: 'rate limited', at: now });
          await queue(trx, [{ deliveryId, startAfter: until }]);
        });
        return;
      }
    }
    const { address, locale } = await addressOf(delivery.recipient_id, delivery.channel, delivery);
    if (!address) {
      await setDeliveryStatus(db, deliveryId, 'skipped', { reason: ADDRESS_MISSING, at: clock() });
      return;
    }
    if (!(await claimDelivery(db, deliveryId, delivery.attempts, clock()))) return;
    const attempts = delivery.attempts + 1;
    const message = render(delivery.kind, delivery.payload as Record<string, unknown>, locale);
    try {
      if (delivery.channel === 'email') {
        await deps.mailer.send({
          to: address,
          subject: message.subject,
          text: message.text,
          html: message.html,
        });
      } else {
        await deps.sms.send({ to: address, text: message.summary });
      }
    } catch (err) {
      const reason = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      logger.warn({ deliveryId, channel: delivery.channel, attempts, reason }, 'notify delivery failed');
      await fail(deliveryId, attempts, reason);
      return;
    }
    await setDeliveryStatus(db, deliveryId, 'sent', { at: clock(), reason: null });
  }

  const toView = (
    row: Awaited<ReturnType<typeof listDeliveries>>[number],
    log: Awaited<ReturnType<typeof deliveryLog>>,
  ): DeliveryView => ({
    id: row.id,
    notificationId: row.notification_id,
    recipientId: row.recipient_id,
    kind: row.kind,
    channel: row.channel,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    updatedAt: new Date(row.updated_at).toISOString(),
    log: log
      .filter((l) => l.delivery_id === row.id)
      .map((l) => ({ status: l.status, reason: l.reason, at: new Date(l.at).toISOString() })),
  });

  return {
    create,
    run,

    async list(query: {
      status?: DeliveryStatus | undefined;
      limit?: number | undefined;
      cursor?: string | undefined;
    }): Promise<Page<DeliveryView>> {
      const limit = query.limit ?? 20;
      const statuses: DeliveryStatus[] = query.status ? [query.status] : ['failed', 'dead'];
      const rows = await listDeliveries(db, { statuses, limit, cursor: query.cursor });
      const log = await deliveryLog(
        db,
        rows.slice(0, limit).map((r) => r.id),
      );
      return toPage(
        rows,
        limit,
        (r) => [new Date(r.updated_at).toISOString(), r.id],
        (r) => toView(r, log),
      );
    },

    /** An admin sends a failed or dead delivery again, with a fresh count of tries. */
    async retry(id: string): Promise<DeliveryView> {
      await inTransaction(db, async (trx) => {
        const delivery = await findDelivery(trx, id);
        if (!delivery) throw deliveryNotFound();
        if (delivery.status !== 'failed' && delivery.status !== 'dead')
          throw deliveryNotRetryable(delivery.status);
        await setDeliveryStatus(trx, id, 'queued', {
          reason: 'retry requested by an admin',
          at: clock(),
          resetAttempts: true,
        });
        await queue(trx, [{ deliveryId: id }]);
      });
      const row = await findDelivery(db, id);
      if (!row) throw deliveryNotFound();
      return toView({ ...row, notification_id: row.notification_id }, await deliveryLog(db, [id]));
    },
  };
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
