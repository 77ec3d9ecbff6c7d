import { type Kysely, sql } from 'kysely';

const pad = (n: number) => String(n).padStart(2, '0');

/** `events_y2026m03` for March 2026. */
export const partitionName = (month: Date) =>
  `events_y${month.getUTCFullYear()}m${pad(month.getUTCMonth() + 1)}`;

/**
 * Make the monthly partitions of analytics.events for `count` months from `first` (the first day
 * of a month, UTC), skipping those that exist. Each is [first day, first day of next month).
 */
export async function createMonthPartitions(
  db: Kysely<unknown>,
  first: Date,
  count: number,
): Promise<string[]> {
  const made: string[] = [];
  for (let i = 0; i < count; i++) {
    const from = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + i, 1));
    const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
    const name = partitionName(from);
    const exists = await sql<{ found: boolean }>`
      select to_regclass(${`analytics.${name}`}) is not null as found`.execute(db);
    if (exists.rows[0]?.found) continue;
    await sql`
      create table ${sql.table(`analytics.${name}`)} partition of analytics.events
      for values from (${sql.lit(from.toISOString())}) to (${sql.lit(to.toISOString())})`.execute(db);
    made.push(name);
  }
  return made;
}
