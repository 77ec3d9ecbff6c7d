import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import { addSeconds, type Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import type { CompleteInTransaction } from '../../platform/http/idempotency.js';
import { type Page, toPage } from '../../platform/http/pagination.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import { money } from '../../platform/money.js';
import type { CatalogApi } from '../catalog/index.js';
import { OrderClosedEvent } from './commerce.events.js';
import { CommerceErrors, NotFound } from './commerce.errors.js';
import { type CouponsService, normaliseCode } from './coupons.service.js';
import type { CancelAtProviderData, CancelAtProviderJob } from './jobs.js';
import { type OrderRow, type TransitionActor, transitionOrder } from './order-state.js';
import type { OrderDetailView, OrderView } from './orders.schemas.js';
import {
  insertOrderWithLines,
  ONE_PENDING_ORDER,
  linesOf,
  listOrders,
  findOrder,
  lockOverdueOrders,
  type OrderFilter,
  paidCourseIds,
  pendingOrdersWithCourses,
  transitionsOf,
} from './orders.queries.js';
import { isUniqueViolation } from '../../platform/db/pg-errors.js';
import { closeOpenPayments, type PaymentRow, paymentsOf } from './payments.queries.js';
import { can } from './permissions.js';
import type { CommerceTables } from './tables.js';

type Db = Kysely<CommerceTables>;

/** Amounts are PostgreSQL integers (minor units), as the catalog's prices are. */
const MAX_ORDER_TOTAL = 2_147_483_647;

/** Who is asking, from the verified token. */
/** A pending order of the same courses committed between the transaction's read and its insert. */
class PendingOrderRaced extends Error {
  constructor() {
    super('a pending order of these courses was committed meanwhile');
  }
}

export interface Actor {
  userId: string;
  roles: readonly string[];
}

/** Which of these courses the user already owns (the learning module's entitlements, later). */
export interface Entitlements {
  ownedCourseIds(userId: string, courseIds: readonly string[]): Promise<string[]>;
}

export type CourseSource = Pick<CatalogApi, 'getCourseForSale'>;

export const isAdmin = (actor: Actor): boolean => can(actor.roles, 'orders:manage-any');

/** Commerce's own rule for "owned": a line of a paid order that is not fully refunded. */
export function commerceEntitlements(db: Db): Entitlements {
  return { ownedCourseIds: (userId, courseIds) => paidCourseIds(db, userId, courseIds) };
}

export function toOrderView(order: OrderRow, lines: Awaited<ReturnType<typeof linesOf>>): OrderView {
  const m = (amount: number) => money(amount, order.currency);
  return {
    id: order.id,
    userId: order.user_id,
    status: order.status,
    subtotal: m(order.subtotal),
    discount: m(order.discount),
    total: m(order.total),
    couponCode: order.coupon_code,
    lines: lines
      .filter((l) => l.order_id === order.id)
      .map((l) => ({
        courseId: l.course_id,
        title: l.title,
        instructorIds: l.instructor_ids,
        listPrice: m(l.list_price),
        amount: m(l.amount),
      })),
    expiresAt: order.expires_at.toISOString(),
    paidAt: order.paid_at ? order.paid_at.toISOString() : null,
    provider: order.provider,
    createdAt: order.created_at.toISOString(),
    updatedAt: order.updated_at.toISOString(),
  };
}

/**
 * A page of a newest-first listing (orders, refunds): fetch one row more than asked to know
 * whether another page follows, keep `limit`, continue after the last kept row's
 * (created_at, id), and turn the kept rows into what the page shows.
 */
export async function pageOf<Row extends { created_at: Date; id: string }, Item>(
  page: { limit?: number | undefined; cursor?: string | undefined },
  fetch: (page: { limit: number; cursor?: string | undefined }) => Promise<Row[]>,
  show: (rows: Row[]) => Promise<Item[]>,
): Promise<Page<Item>> {
  const limit = page.limit ?? 20;
  const kept = toPage(
    await fetch({ limit, cursor: page.cursor }),
    limit,
    (r) => [r.created_at.toISOString(), r.id],
    (r) => r,
  );
  return { nextCursor: kept.nextCursor, data: await show(kept.data) };
}

export interface CreatedOrder {
  order: OrderView;
  /** false: an identical pending order already existed and is returned instead. */
  created: boolean;
}

export interface OrdersServiceDeps {
  db: Db;
  clock: Clock;
  jobs: JobQueue;
  logger: Logger;
  catalog: CourseSource;
  entitlements: Entitlements;
  ttlMinutes: number;
  /** Who expires overdue orders, as their transitions record it (the sweep's job name). */
  expiredBy: string;
  /** Close a closed order's open attempts at the provider, after commit (the sandbox). */
  closeAtProvider: (payments: PaymentRow[]) => Promise<void>;
  /** Providers that must be told a payment is withdrawn (Stripe intents never expire by themselves). */
  cancelsAtProvider?: ((provider: PaymentRow['provider']) => boolean) | undefined;
  /** The job that tells them, sent in the closing transaction. */
  cancelJob?: CancelAtProviderJob | undefined;
  /** Takes a coupon's use inside the order's transaction (race-free under the coupon's row lock). */
  coupons?: Pick<CouponsService, 'redeemInTransaction'> | undefined;
}

export function createOrdersService(deps: OrdersServiceDeps) {
  const { db, clock, jobs, logger, catalog, entitlements } = deps;

  async function view(orderId: string): Promise<OrderView> {
    const order = await findOrder(db, orderId);
    if (!order) throw NotFound.order();
    return toOrderView(order, await linesOf(db, [order.id]));
  }

  /** Everything the order needs from the catalog, asked before any commerce transaction opens. */
  async function coursesForSale(courseIds: readonly string[]) {
    const courses = await Promise.all(courseIds.map((id) => catalog.getCourseForSale(id)));
    return courses.map((course, i) => {
      // drafts and courses in review are the catalog's secret: "not found", as the catalog says
      if (!course || course.status === 'draft' || course.status === 'in_review') {
        throw AppError.notFound(CommerceErrors.courseNotFound, `No such course: ${courseIds[i]}.`);
      }
      if (!course.onSale) {
        throw AppError.conflict(CommerceErrors.courseNotOnSale, `The course ${course.id} is no longer sold.`);
      }
      if (course.isFree) {
        throw new AppError(
          'conflict',
          CommerceErrors.courseFree,
          `The course ${course.id} is free: enrol in it instead of ordering it.`,
          { courseId: course.id },
        );
      }
      return course;
    });
  }

  /**
   * Close a pending order (cancel or expire) inside a transaction: the transition, the closed
   * event, and the open payment attempts marked closed. Returns those attempts, to be closed at
   * the provider after commit.
   */
  async function closeInTrx(
    trx: Transaction<CommerceTables>,
    orderId: string,
    to: 'cancelled' | 'expired',
    actor: TransitionActor,
    reason: string,
    locked?: OrderRow,
  ): Promise<{ order: OrderRow; open: PaymentRow[] }> {
    const at = clock();
    const order = await transitionOrder(trx, {
      orderId,
      from: ['pending'],
      to,
      actor,
      reason,
      at,
      ...(locked ? { locked } : {}),
    });
    await enqueue(trx, 'commerce', [
      OrderClosedEvent.create(order.id, {
        orderId: order.id,
        userId: order.user_id,
        status: to,
        closedAt: at.toISOString(),
      }),
    ]);
    const open = await closeOpenPayments(trx, order.id, at);
    const { cancelJob, cancelsAtProvider } = deps;
    if (cancelJob && cancelsAtProvider) {
      for (const payment of open.filter((p) => cancelsAtProvider(p.provider))) {
        await jobs.send<typeof CancelAtProviderData, CommerceTables>(
          cancelJob,
          { paymentId: payment.id },
          { transaction: trx },
        );
      }
    }
    return { order, open };
  }

  async function closeQuietly(open: PaymentRow[]): Promise<void> {
    if (open.length === 0) return;
    try {
      await deps.closeAtProvider(open);
    } catch (err) {
      // the order is closed either way; a payment that still arrives is flagged for refund
      logger.warn(
        { err, payments: open.map((p) => p.id) },
        'closing payment attempts at the provider failed',
      );
    }
  }

  return {
    view,

    async create(
      actor: Actor,
      input: { courseIds: string[]; couponCode?: string | undefined },
      complete?: CompleteInTransaction<CreatedOrder>,
    ): Promise<CreatedOrder> {
      const courseIds = input.courseIds.map((id) => id.toLowerCase());
      if (new Set(courseIds).size !== courseIds.length) {
        throw AppError.validation(CommerceErrors.duplicateCourse, 'A course appears twice in the order.', [
          { field: '/body/courseIds', message: 'must not repeat a course' },
        ]);
      }
      const courses = await coursesForSale(courseIds);
      const currency = courses[0]?.price.currency ?? '';
      if (courses.some((c) => c.price.currency !== currency)) {
        throw AppError.validation(
          CommerceErrors.mixedCurrencies,
          'All courses of one order must be priced in one currency; order them separately.',
          [{ field: '/body/courseIds', message: 'courses are priced in different currencies' }],
        );
      }
      const owned = await entitlements.ownedCourseIds(actor.userId, courseIds);
      if (owned.length > 0) {
        throw new AppError(
          'conflict',
          CommerceErrors.alreadyOwned,
          'You already own a course of this order.',
          {
            courseIds: owned,
          },
        );
      }
      const courseSet = [...courseIds].sort().join(',');
      const subtotal = courses.reduce((sum, c) => sum + c.price.amount, 0);
      if (subtotal > MAX_ORDER_TOTAL) {
        throw AppError.validation(
          CommerceErrors.orderTooLarge,
          'The order’s total is too large; order fewer courses at once.',
          [{ field: '/body/courseIds', message: 'the total exceeds what one order can hold' }],
        );
      }
      const now = clock();
      const closed: PaymentRow[] = [];

      /**
       * The new order, its lines and its first transition: one statement. Undefined when a pending
       * order of the learner holds one of these courses (nothing written).
       */
      const insertNew = async (
        executor: Db,
        orderId: string,
        redemption?: Awaited<ReturnType<CouponsService['redeemInTransaction']>>,
      ): Promise<CreatedOrder | undefined> => {
        const discount = redemption?.priced.discount.amount ?? 0;
        const inserted = await insertOrderWithLines(
          executor,
          {
            id: orderId,
            user_id: actor.userId,
            currency,
            subtotal,
            discount,
            total: subtotal - discount,
            coupon_code: redemption?.code ?? null,
            course_set: courseSet,
            expires_at: addSeconds(now, deps.ttlMinutes * 60),
            created_at: now,
            updated_at: now,
          },
          courses.map((c, position) => ({
            order_id: orderId,
            course_id: c.id,
            user_id: actor.userId,
            pending: true,
            title: c.title,
            instructor_ids: c.instructorIds,
            list_price: c.price.amount,
            amount: redemption?.priced.lines[position]?.amount.amount ?? c.price.amount,
            position,
          })),
          {
            from_status: null,
            to_status: 'pending',
            actor_kind: 'user',
            actor_id: actor.userId,
            reason: 'created',
            at: now,
          },
        );
        return inserted && { order: toOrderView(inserted.order, inserted.lines), created: true };
      };
      const redeems = input.couponCode !== undefined && deps.coupons !== undefined;

      const attempt = async (): Promise<CreatedOrder> => {
        // Without a coupon to redeem or an answer to store, the new order is that one statement,
        // alone, without a begin and a commit around it. It writes nothing when a pending order of
        // the learner holds one of these courses (or the one-pending-order unique index refuses it,
        // for one committed meanwhile): which one, and what that means (the same order again, a
        // 409, an overdue one to expire), is decided in the transaction below.
        if (!redeems && !complete) {
          try {
            const created = await insertNew(db, randomUUID());
            if (created) return created;
          } catch (err) {
            if (!isUniqueViolation(err, ONE_PENDING_ORDER)) throw err;
          }
        }
        return inTransaction(db, async (trx): Promise<CreatedOrder> => {
          for (const pending of await pendingOrdersWithCourses(trx, actor.userId, courseIds)) {
            if (pending.expires_at.getTime() <= now.getTime()) {
              // overdue but the sweep has not reached it yet: expire it now rather than block the learner
              const { open } = await closeInTrx(
                trx,
                pending.id,
                'expired',
                { kind: 'system', id: null },
                'expired',
              );
              closed.push(...open);
              continue;
            }
            if (pending.course_set === courseSet) {
              // the pending order was priced (and its coupon use taken) when it was made; a
              // different coupon now is refused rather than silently ignored or re-priced
              const asked = input.couponCode === undefined ? undefined : normaliseCode(input.couponCode);
              if (asked !== undefined && asked !== pending.coupon_code) {
                throw new AppError(
                  'conflict',
                  CommerceErrors.pendingOrderCoupon,
                  `Your pending order ${pending.id} for these courses was priced ${
                    pending.coupon_code ? `with the coupon ${pending.coupon_code}` : 'without a coupon'
                  }: cancel it and order again to use ${asked}.`,
                  {
                    orderId: pending.id,
                    fields: [{ field: '/body/couponCode', message: 'differs from the pending order’s' }],
                  },
                );
              }
              return { order: toOrderView(pending, await linesOf(trx, [pending.id])), created: false };
            }
            throw new AppError(
              'conflict',
              CommerceErrors.pendingOrderExists,
              `Your pending order ${pending.id} holds some of these courses: pay or cancel it first.`,
              { orderId: pending.id },
            );
          }
          const orderId = randomUUID();
          const redemption =
            input.couponCode === undefined || !deps.coupons
              ? undefined
              : await deps.coupons.redeemInTransaction(trx, {
                  code: input.couponCode,
                  userId: actor.userId,
                  orderId,
                  lines: courses.map((c) => ({
                    courseId: c.id,
                    categoryId: c.categoryId,
                    price: money(c.price.amount, c.price.currency),
                  })),
                });
          const result = await insertNew(trx, orderId, redemption);
          // a pending order of these courses committed since the read above: as the unique index's refusal
          if (!result) throw new PendingOrderRaced();
          await complete?.(trx, result);
          return result;
        });
      };

      let result: CreatedOrder;
      try {
        result = await attempt();
      } catch (err) {
        // a concurrent checkout of the same learner won the one-pending-order race: answer as if
        // it had come first (the same set is returned, an overlapping one is a 409)
        if (!isUniqueViolation(err) && !(err instanceof PendingOrderRaced)) throw err;
        result = await attempt();
      }
      await closeQuietly(closed);
      return result;
    },

    async get(actor: Actor, orderId: string): Promise<OrderDetailView> {
      const order = await findOrder(db, orderId);
      if (!order || (order.user_id !== actor.userId && !isAdmin(actor))) throw NotFound.order();
      const [lines, transitions, payments] = await Promise.all([
        linesOf(db, [order.id]),
        transitionsOf(db, order.id),
        paymentsOf(db, order.id),
      ]);
      return {
        ...toOrderView(order, lines),
        transitions: transitions.map((t) => ({
          from: t.from_status,
          to: t.to_status,
          actorKind: t.actor_kind,
          actorId: t.actor_id,
          reason: t.reason,
          at: t.at.toISOString(),
        })),
        payments: payments.map((p) => ({
          id: p.id,
          provider: p.provider,
          amount: money(p.amount, p.currency),
          status: p.status,
          flagged: p.flagged,
          flagReason: p.flag_reason,
          createdAt: p.created_at.toISOString(),
        })),
      };
    },

    async list(
      filter: OrderFilter,
      page: { limit?: number | undefined; cursor?: string | undefined },
    ): Promise<Page<OrderView>> {
      return pageOf(
        page,
        (p) => listOrders(db, filter, p),
        async (orders) => {
          const lines = await linesOf(
            db,
            orders.map((o) => o.id),
          );
          return orders.map((o) => toOrderView(o, lines));
        },
      );
    },

    async cancel(actor: Actor, orderId: string, reason?: string): Promise<OrderView> {
      const existing = await findOrder(db, orderId);
      if (!existing || (existing.user_id !== actor.userId && !isAdmin(actor))) throw NotFound.order();
      const actorKind = existing.user_id === actor.userId ? 'user' : 'admin';
      const { order, open } = await db
        .transaction()
        .execute((trx) =>
          closeInTrx(trx, orderId, 'cancelled', { kind: actorKind, id: actor.userId }, reason ?? 'cancelled'),
        );
      await closeQuietly(open);
      return toOrderView(order, await linesOf(db, [order.id]));
    },

    /**
     * The sweep's work: expire every pending order whose expiry has passed, a batch per
     * transaction (each order's transition, closed event and closed payment attempts), then close
     * the batch's open attempts at the provider after its commit. An order locked by a payment or
     * a cancel at that moment is skipped and left to the next sweep, which finds it still due.
     * Returns how many orders it expired.
     */
    async expireOverdue(batchSize = 200): Promise<number> {
      let expired = 0;
      for (;;) {
        const { count, open } = await inTransaction(db, async (trx) => {
          const due = await lockOverdueOrders(trx, clock(), batchSize);
          const open: PaymentRow[] = [];
          for (const order of due) {
            const closed = await closeInTrx(
              trx,
              order.id,
              'expired',
              { kind: 'system', id: deps.expiredBy },
              'not paid in time',
              order,
            );
            open.push(...closed.open);
          }
          return { count: due.length, open };
        });
        await closeQuietly(open);
        expired += count;
        if (count < batchSize) return expired;
      }
    },
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;
