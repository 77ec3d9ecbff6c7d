import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .withSchema('commerce')
    .createTable('coupons')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('percentage', 'fixed')`))
    .addColumn('percent_bps', 'integer', (c) => c.check(sql`percent_bps between 1 and 10000`))
    .addColumn('amount_off', 'bigint', (c) => c.check(sql`amount_off > 0`))
    .addColumn('currency', 'text')
    .addColumn('min_spend', 'bigint', (c) => c.check(sql`min_spend >= 0`))
    .addColumn('scope', 'text', (c) => c.notNull().check(sql`scope in ('all', 'courses', 'categories')`))
    .addColumn('scope_ids', sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('starts_at', 'timestamptz')
    .addColumn('ends_at', 'timestamptz')
    .addColumn('total_limit', 'integer', (c) => c.check(sql`total_limit > 0`))
    .addColumn('per_user_limit', 'integer', (c) => c.check(sql`per_user_limit > 0`))
    .addColumn('redeemed_count', 'integer', (c) => c.notNull().defaultTo(0).check(sql`redeemed_count >= 0`))
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull())
    .addColumn('updated_at', sql`timestamptz(3)`, (c) => c.notNull())
    .addCheckConstraint(
      'coupons_kind_fields',
      sql`(kind = 'percentage' and percent_bps is not null and amount_off is null)
        or (kind = 'fixed' and amount_off is not null and percent_bps is null and currency is not null)`,
    )
    .addCheckConstraint('coupons_min_spend_currency', sql`min_spend is null or currency is not null`)
    // the last line of defence against a lost update: never more redemptions than allowed
    .addCheckConstraint('coupons_within_limit', sql`total_limit is null or redeemed_count <= total_limit`)
    .execute();

  await db.schema
    .withSchema('commerce')
    .createTable('coupon_redemptions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('coupon_id', 'uuid', (c) => c.notNull().references('commerce.coupons.id'))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    // one coupon per order
    .addColumn('order_id', 'uuid', (c) => c.notNull().unique())
    .addColumn('discount', 'bigint', (c) => c.notNull().check(sql`discount >= 0`))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'released')`))
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull())
    .addColumn('released_at', sql`timestamptz(3)`)
    .execute();
  await db.schema
    .withSchema('commerce')
    .createIndex('coupon_redemptions_by_user')
    .on('coupon_redemptions')
    .columns(['coupon_id', 'user_id'])
    .where(sql.ref('status'), '=', 'active')
    .execute();
}
