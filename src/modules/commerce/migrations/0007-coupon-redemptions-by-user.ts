import { type Kysely, sql } from 'kysely';

/**
 * A user's coupon redemptions, in the order they were made: the personal-data export pages them by
 * `(created_at, id)` for one user, whatever their status, and the index `coupon_redemptions_by_user`
 * (despite its name) is led by the coupon, so it cannot serve a read by user alone. The per-user
 * limit (`activeRedemptionsOf`: coupon, user, active) stays served exactly by that partial index;
 * this one serves it as well through its leading `user_id`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index if not exists coupon_redemptions_user_idx
    on commerce.coupon_redemptions (user_id, created_at, id)
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists commerce.coupon_redemptions_user_idx`.execute(db);
}
