import { addSeconds, type Clock } from '../../../platform/clock.js';
import { AppError } from '../../../platform/errors.js';
import type { CatalogApi, CourseForSale } from '../../catalog/index.js';
import { CommerceErrors } from '../commerce.errors.js';
import type { CouponsService } from '../coupons.service.js';
import type { NotificationsService } from '../notifications.service.js';
import type { Actor, OrdersService } from '../orders.service.js';
import type { PaymentsService } from '../payments.service.js';
import type { SandboxNotification, SandboxProvider } from '../providers/sandbox.provider.js';
import type { RefundsService } from '../refunds.service.js';
import { DEMO_ADMIN_ID, DEMO_BUYERS, DEMO_COUPON, DEMO_ORDERS, DEMO_REFUND_REASON } from './demo.data.js';

/** The services the demo sales are made through, as learners, the sandbox and an admin make them. */
export interface SeedServices {
  catalog: Pick<CatalogApi, 'getCourseForSale' | 'demoCourseIds'>;
  orders: Pick<OrdersService, 'create' | 'list'>;
  payments: Pick<PaymentsService, 'start'>;
  notifications: Pick<NotificationsService, 'handle'>;
  sandbox: Pick<SandboxProvider, 'simulate' | 'verifyNotification'>;
  refunds: Pick<RefundsService, 'adminRefund' | 'send' | 'query'>;
  coupons: Pick<CouponsService, 'create'>;
  clock: Clock;
}

const ADMIN: Actor = { userId: DEMO_ADMIN_ID, roles: ['learner', 'admin'] };
const DAY_SECONDS = 24 * 3600;

const buyer = (index: number): Actor => ({
  userId: DEMO_BUYERS[index % DEMO_BUYERS.length] ?? DEMO_BUYERS[0],
  roles: ['learner'],
});

/** Newest first, one course of each owner in turn, so every demo instructor sees a sale. */
function roundRobinByOwner(courses: CourseForSale[], count: number): CourseForSale[] {
  const queues = new Map<string, CourseForSale[]>();
  for (const course of courses) {
    const queue = queues.get(course.ownerId);
    if (queue) queue.push(course);
    else queues.set(course.ownerId, [course]);
  }
  const picked: CourseForSale[] = [];
  while (picked.length < count) {
    const round = [...queues.values()].flatMap((queue) => queue.splice(0, 1));
    if (round.length === 0) break;
    picked.push(...round.slice(0, count - picked.length));
  }
  return picked;
}

/**
 * Sales for a newcomer to look at: paid sandbox orders of the demo catalog's paid courses by demo buyers
 * (one with the demo coupon), one of them refunded in full by an admin, and the coupon itself,
 * all through the services, so the ledger, `commerce.order.paid` (learning's entitlements,
 * analytics) and the refund's reversal are the real ones. Does nothing when any order exists, or
 * before the catalog has a paid course.
 */
export async function seedDemoCommerce(services: SeedServices): Promise<string[] | undefined> {
  const { catalog, orders, payments, notifications, sandbox, refunds, coupons, clock } = services;
  if ((await orders.list({}, { limit: 1 })).data.length > 0) return undefined;
  const found = await Promise.all(
    (await catalog.demoCourseIds(100)).map((id) => catalog.getCourseForSale(id)),
  );
  const courses = roundRobinByOwner(
    found.filter((c): c is CourseForSale => c !== undefined && c.onSale && !c.isFree),
    DEMO_ORDERS,
  );
  if (courses.length === 0) return undefined;

  const coupon = await coupons
    .create({
      code: DEMO_COUPON.code,
      kind: 'percentage',
      percentBps: DEMO_COUPON.percentBps,
      endsAt: addSeconds(clock(), DEMO_COUPON.days * DAY_SECONDS).toISOString(),
      totalLimit: DEMO_COUPON.totalLimit,
      perUserLimit: DEMO_COUPON.perUserLimit,
    })
    .catch((err: unknown) => {
      // an admin made it before the first order (or an earlier seed stopped after it): keep theirs
      if (err instanceof AppError && err.code === CommerceErrors.couponCodeTaken) return undefined;
      throw err;
    });

  // what the notify route does with the sandbox's post, in this process: `lectern seed` listens nowhere
  const deliverHere = async (notification: SandboxNotification) => {
    const verified = await sandbox.verifyNotification({
      headers: notification.headers,
      rawBody: Buffer.from(notification.body),
    });
    return notifications.handle('sandbox', verified);
  };

  // someone else's DEMO10 may not fit a demo order (another kind, a min spend): only ours is used
  const withCoupon = coupon && courses.length > 2 ? 1 : -1;
  const paid: string[] = [];
  for (const [i, course] of courses.entries()) {
    const learner = buyer(i);
    const { order } = await orders.create(learner, {
      courseIds: [course.id],
      ...(i === withCoupon ? { couponCode: DEMO_COUPON.code } : {}),
    });
    const payment = await payments.start(learner, order.id, 'sandbox');
    const settled = await deliverHere(await sandbox.simulate(payment.id, 'pay'));
    if (settled.outcome !== 'applied') {
      throw new Error(`demo order ${order.id} was not paid: ${settled.outcome} ${settled.flagReason ?? ''}`);
    }
    paid.push(order.id);
  }

  const refunded = paid.length > 1 ? paid.at(-1) : undefined;
  if (refunded) {
    const refund = await refunds.adminRefund(ADMIN, refunded, { reason: DEMO_REFUND_REASON });
    // the send job's work, now; the sandbox posts its answer to this server's notify URL, which
    // nothing serves during `lectern seed`: then the refund settles from the sandbox's record, as
    // the job's retry would settle it
    const unsent = await refunds.send(refund.id).then(
      () => undefined,
      (err: unknown) => err,
    );
    const check = await refunds.query(ADMIN, refund.id);
    if (check.status !== 'succeeded') {
      throw new Error(`the demo refund ${refund.id} is ${check.status}`, { cause: unsent });
    }
  }

  return [
    `commerce: ${paid.length} paid sandbox orders by demo buyers${refunded ? ', 1 refunded' : ''} (GET /api/v1/admin/orders, /api/v1/admin/ledger/trial-balance, /api/v1/earnings)`,
    `commerce: coupon ${DEMO_COUPON.code}${coupon?.endsAt ? `, ${DEMO_COUPON.percentBps / 100}% off any course until ${coupon.endsAt.slice(0, 10)}` : ''} (POST /api/v1/orders with "couponCode":"${DEMO_COUPON.code}")`,
  ];
}
