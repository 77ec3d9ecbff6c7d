import type { Kysely } from 'kysely';

/**
 * The order's paid and refunded events take an advisory lock of the order (entitlements.queries.ts)
 * instead of upserting a row of `order_locks`: the table, a row per paid order, goes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.withSchema('learning').dropTable('order_locks').ifExists().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .withSchema('learning')
    .createTable('order_locks')
    .ifNotExists()
    .addColumn('order_id', 'text', (c) => c.primaryKey())
    .execute();
}
