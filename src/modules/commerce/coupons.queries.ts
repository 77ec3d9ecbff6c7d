import { type Insertable, type Kysely, sql, type Updateable } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { CommerceTables, CouponTable } from './tables.js';

type Db = Kysely<CommerceTables>;

export function insertCoupon(db: Db, values: Insertable<CouponTable>) {
  return db
    .insertInto('commerce.coupons')
    .values(values)
    .onConflict((oc) => oc.column('code').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function findCoupon(db: Db, id: string, options: { forUpdate?: boolean } = {}) {
  const q = db.selectFrom('commerce.coupons').selectAll().where('id', '=', id);
  return (options.forUpdate ? q.forUpdate() : q).executeTakeFirst();
}

export function findCouponByCode(db: Db, code: string, options: { forUpdate?: boolean } = {}) {
  const q = db.selectFrom('commerce.coupons').selectAll().where('code', '=', code);
  return (options.forUpdate ? q.forUpdate() : q).executeTakeFirst();
}

export function updateCoupon(db: Db, id: string, values: Updateable<CouponTable>) {
  return db
    .updateTable('commerce.coupons')
    .set(values)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export function deleteCoupon(db: Db, id: string) {
  return db.deleteFrom('commerce.coupons').where('id', '=', id).executeTakeFirst();
}

export function listCoupons(db: Db, page: { limit: number; cursor?: string | undefined }) {
  return keyset(db.selectFrom('commerce.coupons').selectAll(), {
    columns: ['created_at', 'id'],
    direction: 'desc',
    limit: page.limit,
    cursor: page.cursor,
    shape: ['date-time', 'uuid'],
  }).execute();
}

export async function hasRedemptions(db: Db, couponId: string): Promise<boolean> {
  const row = await db
    .selectFrom('commerce.coupon_redemptions')
    .select('id')
    .where('coupon_id', '=', couponId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function activeRedemptionsOf(db: Db, couponId: string, userId: string): Promise<number> {
  const row = await db
    .selectFrom('commerce.coupon_redemptions')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('coupon_id', '=', couponId)
    .where('user_id', '=', userId)
    .where('status', '=', 'active')
    .executeTakeFirstOrThrow();
  return row.n;
}

/** Counts one more use; the caller holds the coupon's row lock and has checked the limit. */
export function countRedemption(db: Db, couponId: string, at: Date) {
  return db
    .updateTable('commerce.coupons')
    .set({ redeemed_count: sql`redeemed_count + 1`, updated_at: at })
    .where('id', '=', couponId)
    .where((eb) => eb.or([eb('total_limit', 'is', null), eb('redeemed_count', '<', eb.ref('total_limit'))]))
    .returning('redeemed_count')
    .executeTakeFirst();
}

export function insertRedemption(
  db: Db,
  values: { couponId: string; userId: string; orderId: string; discount: number; currency: string; at: Date },
) {
  return db
    .insertInto('commerce.coupon_redemptions')
    .values({
      coupon_id: values.couponId,
      user_id: values.userId,
      order_id: values.orderId,
      discount: values.discount,
      currency: values.currency,
      status: 'active',
      created_at: values.at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}

/** Releases the order's redemption if it still holds one; returns the coupon whose count drops. */
export async function releaseRedemption(db: Db, orderId: string, at: Date): Promise<string | undefined> {
  const released = await db
    .updateTable('commerce.coupon_redemptions')
    .set({ status: 'released', released_at: at })
    .where('order_id', '=', orderId)
    .where('status', '=', 'active')
    .returning('coupon_id')
    .executeTakeFirst();
  if (!released) return undefined;
  await db
    .updateTable('commerce.coupons')
    .set({ redeemed_count: sql`redeemed_count - 1`, updated_at: at })
    .where('id', '=', released.coupon_id)
    .execute();
  return released.coupon_id;
}

export function redemptionOfOrder(db: Db, orderId: string) {
  return db
    .selectFrom('commerce.coupon_redemptions')
    .selectAll()
    .where('order_id', '=', orderId)
    .executeTakeFirst();
}
