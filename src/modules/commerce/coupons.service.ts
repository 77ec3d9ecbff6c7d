import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { type Page, toPage } from '../../platform/http/pagination.js';
import { allocate, formatMoney, type Money, money, percentage } from '../../platform/money.js';
import type { CatalogApi } from '../catalog/index.js';
import { CommerceErrors, CouponRefused } from './commerce.errors.js';
import {
  activeRedemptionsOf,
  countRedemption,
  deleteCoupon,
  findCoupon,
  findCouponByCode,
  hasRedemptions,
  insertCoupon,
  insertRedemption,
  listCoupons,
  releaseRedemption,
  updateCoupon,
} from './coupons.queries.js';
import type { Coupon, CouponPreview, CreateCouponBody, UpdateCouponBody } from './coupons.schemas.js';
import type { CommerceTables, CouponTable } from './tables.js';

type Db = Kysely<CommerceTables>;
type CouponRow = Selectable<CouponTable>;

/** One course of a cart, as the catalog sells it now. */
export interface CartLine {
  courseId: string;
  categoryId: string | null;
  price: Money;
}

export interface PricedLine {
  courseId: string;
  price: Money;
  discount: Money;
  /** What the learner pays for this line: price − discount, never below zero. */
  amount: Money;
}

export interface PricedCart {
  lines: PricedLine[];
  subtotal: Money;
  discount: Money;
  total: Money;
}

/** A coupon taken by an order inside the order's transaction. */
export interface Redemption {
  couponId: string;
  code: string;
  priced: PricedCart;
}

const invalid = (message: string, field: string) =>
  AppError.validation(CommerceErrors.couponInvalid, message, [{ field, message }]);

export const normaliseCode = (code: string) => code.trim().toUpperCase();

function toCoupon(row: CouponRow): Coupon {
  const inCurrency = (amount: number | null) =>
    amount === null || row.currency === null ? null : { amount, currency: row.currency };
  return {
    id: row.id,
    code: row.code,
    kind: row.kind,
    percentBps: row.percent_bps,
    amountOff: inCurrency(row.amount_off),
    minSpend: inCurrency(row.min_spend),
    scope: row.scope,
    scopeIds: row.scope_ids,
    startsAt: row.starts_at?.toISOString() ?? null,
    endsAt: row.ends_at?.toISOString() ?? null,
    totalLimit: row.total_limit,
    perUserLimit: row.per_user_limit,
    redeemed: row.redeemed_count,
    active: row.active,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function checkWindow(startsAt: Date | null, endsAt: Date | null): void {
  if (startsAt && endsAt && startsAt.getTime() >= endsAt.getTime()) {
    throw invalid('The coupon must start before it ends.', '/body/endsAt');
  }
}

const inScope = (coupon: CouponRow, line: CartLine): boolean =>
  coupon.scope === 'all' ||
  (coupon.scope === 'courses' && coupon.scope_ids.includes(line.courseId)) ||
  (coupon.scope === 'categories' && line.categoryId !== null && coupon.scope_ids.includes(line.categoryId));

/**
 * Price a cart with a coupon, or say why the coupon does not apply. The discount is taken from
 * the lines in scope only, split over them in proportion to their prices with `allocate`, so the
 * parts add up to it exactly and no line goes below zero. Limits (total, per user) are checked by
 * the caller, which knows whether it holds the coupon's row lock.
 */
export function priceWithCoupon(coupon: CouponRow, lines: readonly CartLine[], now: Date): PricedCart {
  const first = lines[0];
  if (!first) throw AppError.validation(CommerceErrors.cartInvalid, 'The cart is empty.');
  const currency = first.price.currency;
  if (!coupon.active) throw CouponRefused.inactive();
  if (coupon.starts_at && now.getTime() < coupon.starts_at.getTime()) throw CouponRefused.notStarted();
  if (coupon.ends_at && now.getTime() >= coupon.ends_at.getTime()) throw CouponRefused.expired();
  if (coupon.currency !== null && coupon.currency !== currency) {
    throw CouponRefused.currency(coupon.currency, currency);
  }
  const eligible = lines.map((line) => inScope(coupon, line));
  if (!eligible.some(Boolean)) throw CouponRefused.scope();
  const eligibleSubtotal = lines.reduce((sum, line, i) => sum + (eligible[i] ? line.price.amount : 0), 0);
  if (coupon.min_spend !== null && eligibleSubtotal < coupon.min_spend) {
    throw CouponRefused.minSpend(formatMoney(money(coupon.min_spend, currency), 'en'));
  }
  const subtotal = money(
    lines.reduce((sum, line) => sum + line.price.amount, 0),
    currency,
  );
  const wanted =
    coupon.kind === 'percentage'
      ? // rounded down: never take off more than the percentage promised
        percentage(money(eligibleSubtotal, currency), (coupon.percent_bps ?? 0) / 100, 'down').amount
      : Math.min(coupon.amount_off ?? 0, eligibleSubtotal);
  const discount = money(wanted, currency);
  const parts =
    eligibleSubtotal === 0
      ? lines.map(() => money(0, currency))
      : allocate(
          discount,
          lines.map((line, i) => (eligible[i] ? line.price.amount : 0)),
        );
  const priced = lines.map((line, i) => {
    const part = parts[i] ?? money(0, currency);
    return {
      courseId: line.courseId,
      price: line.price,
      discount: part,
      amount: money(line.price.amount - part.amount, currency),
    };
  });
  return { lines: priced, subtotal, discount, total: money(subtotal.amount - discount.amount, currency) };
}

export function createCouponsService(deps: {
  db: Db;
  clock: Clock;
  catalog: Pick<CatalogApi, 'getCourseForSale'>;
}) {
  const { db, clock, catalog } = deps;

  /** The cart as the catalog sells it now; read before any commerce transaction. */
  async function cartOf(courseIds: readonly string[]): Promise<CartLine[]> {
    const courses = await Promise.all(courseIds.map((id) => catalog.getCourseForSale(id)));
    const lines: CartLine[] = [];
    for (const course of courses) {
      if (!course?.onSale) throw AppError.notFound(CommerceErrors.courseNotFound, 'No such course on sale.');
      lines.push({
        courseId: course.id,
        categoryId: course.categoryId,
        price: money(course.price.amount, course.price.currency),
      });
    }
    const currencies = new Set(lines.map((l) => l.price.currency));
    if (currencies.size > 1) {
      throw AppError.validation(
        CommerceErrors.cartInvalid,
        'Every course of one order must be in one currency.',
      );
    }
    return lines;
  }

  function checkUses(coupon: CouponRow, usedByUser: number): void {
    if (coupon.total_limit !== null && coupon.redeemed_count >= coupon.total_limit)
      throw CouponRefused.exhausted();
    if (coupon.per_user_limit !== null && usedByUser >= coupon.per_user_limit)
      throw CouponRefused.userLimit();
  }

  return {
    cartOf,

    async create(input: CreateCouponBody): Promise<Coupon> {
      const scope = input.scope ?? 'all';
      const scopeIds = input.scopeIds ?? [];
      if (input.kind === 'percentage' && (input.percentBps === undefined || input.amountOff !== undefined)) {
        throw invalid('A percentage coupon takes percentBps and no amountOff.', '/body/percentBps');
      }
      if (input.kind === 'fixed' && (input.amountOff === undefined || input.percentBps !== undefined)) {
        throw invalid('A fixed coupon takes amountOff and no percentBps.', '/body/amountOff');
      }
      const amountOff = input.amountOff && money(input.amountOff.amount, input.amountOff.currency);
      const minSpend = input.minSpend && money(input.minSpend.amount, input.minSpend.currency);
      if (amountOff && amountOff.amount === 0)
        throw invalid('amountOff must be above zero.', '/body/amountOff');
      if (amountOff && minSpend && amountOff.currency !== minSpend.currency) {
        throw invalid('amountOff and minSpend must be in one currency.', '/body/minSpend');
      }
      if ((scope === 'all') !== (scopeIds.length === 0)) {
        throw invalid(
          scope === 'all' ? 'A coupon for all courses takes no scopeIds.' : 'Name the courses or categories.',
          '/body/scopeIds',
        );
      }
      const startsAt = input.startsAt ? new Date(input.startsAt) : null;
      const endsAt = input.endsAt ? new Date(input.endsAt) : null;
      checkWindow(startsAt, endsAt);
      const now = clock();
      const row = await insertCoupon(db, {
        code: normaliseCode(input.code),
        kind: input.kind,
        percent_bps: input.percentBps ?? null,
        amount_off: amountOff?.amount ?? null,
        currency: amountOff?.currency ?? minSpend?.currency ?? null,
        min_spend: minSpend?.amount ?? null,
        scope,
        scope_ids: scopeIds,
        starts_at: startsAt,
        ends_at: endsAt,
        total_limit: input.totalLimit ?? null,
        per_user_limit: input.perUserLimit ?? null,
        active: input.active ?? true,
        created_at: now,
        updated_at: now,
      });
      if (!row) throw AppError.conflict(CommerceErrors.couponCodeTaken, 'A coupon with this code exists.');
      return toCoupon(row);
    },

    async get(id: string): Promise<Coupon> {
      const row = await findCoupon(db, id);
      if (!row) throw CouponRefused.notFound();
      return toCoupon(row);
    },

    async list(page: { limit: number; cursor?: string | undefined }): Promise<Page<Coupon>> {
      const rows = await listCoupons(db, page);
      return toPage(rows, page.limit, (r) => [r.created_at.toISOString(), r.id], toCoupon);
    },

    async update(id: string, patch: UpdateCouponBody): Promise<Coupon> {
      return db.transaction().execute(async (trx) => {
        const row = await findCoupon(trx, id, { forUpdate: true });
        if (!row) throw CouponRefused.notFound();
        const dateOf = (value: string | null | undefined, current: Date | null) =>
          value === undefined ? current : value === null ? null : new Date(value);
        const startsAt = dateOf(patch.startsAt, row.starts_at);
        const endsAt = dateOf(patch.endsAt, row.ends_at);
        checkWindow(startsAt, endsAt);
        if (patch.totalLimit != null && patch.totalLimit < row.redeemed_count) {
          throw invalid(`The coupon has ${row.redeemed_count} uses already.`, '/body/totalLimit');
        }
        const updated = await updateCoupon(trx, id, {
          ...(patch.active === undefined ? {} : { active: patch.active }),
          starts_at: startsAt,
          ends_at: endsAt,
          ...(patch.totalLimit === undefined ? {} : { total_limit: patch.totalLimit }),
          ...(patch.perUserLimit === undefined ? {} : { per_user_limit: patch.perUserLimit }),
          updated_at: clock(),
        });
        if (!updated) throw CouponRefused.notFound();
        return toCoupon(updated);
      });
    },

    /** Only a coupon no order ever used can go; deactivate the others. */
    async remove(id: string): Promise<void> {
      if (!(await findCoupon(db, id))) throw CouponRefused.notFound();
      if (await hasRedemptions(db, id)) {
        throw AppError.conflict(
          CommerceErrors.couponInUse,
          'Orders used this coupon; deactivate it instead (PATCH active: false).',
        );
      }
      await deleteCoupon(db, id);
    },

    /** What a cart would cost with this coupon now; reserves nothing. */
    async preview(userId: string, code: string, courseIds: readonly string[]): Promise<CouponPreview> {
      const cart = await cartOf(courseIds);
      const coupon = await findCouponByCode(db, normaliseCode(code));
      if (!coupon) throw CouponRefused.notFound();
      const priced = priceWithCoupon(coupon, cart, clock());
      checkUses(coupon, await activeRedemptionsOf(db, coupon.id, userId));
      return { code: coupon.code, ...priced };
    },

    /**
     * Take one use of the coupon for an order, inside the order's transaction. The coupon's row
     * lock makes concurrent checkouts queue here, so the count and the per-user uses read under it
     * are current: with one use left exactly one order gets it, the others see `exhausted`.
     */
    async redeemInTransaction(
      trx: Transaction<CommerceTables>,
      input: { code: string; userId: string; orderId: string; lines: readonly CartLine[] },
    ): Promise<Redemption> {
      const coupon = await findCouponByCode(trx, normaliseCode(input.code), { forUpdate: true });
      if (!coupon) throw CouponRefused.notFound();
      const now = clock();
      const priced = priceWithCoupon(coupon, input.lines, now);
      checkUses(coupon, await activeRedemptionsOf(trx, coupon.id, input.userId));
      if (!(await countRedemption(trx, coupon.id, now))) throw CouponRefused.exhausted();
      await insertRedemption(trx, {
        couponId: coupon.id,
        userId: input.userId,
        orderId: input.orderId,
        discount: priced.discount.amount,
        currency: priced.discount.currency,
        at: now,
      });
      return { couponId: coupon.id, code: coupon.code, priced };
    },

    /** Give the use back when the order is cancelled or expires (never on a refund); idempotent. */
    async releaseForOrder(trx: Kysely<CommerceTables>, orderId: string): Promise<boolean> {
      return inTransaction(trx, async (t) => (await releaseRedemption(t, orderId, clock())) !== undefined);
    },
  };
}

export type CouponsService = ReturnType<typeof createCouponsService>;
