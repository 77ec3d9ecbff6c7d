import type { Kysely } from 'kysely';
import { messagingTables } from '../messaging/outbox.js';

/** Delete outbox rows published before `before`; unpublished rows stay whatever their age. */
export async function deletePublishedOutbox(
  db: Kysely<object>,
  schema: string,
  before: Date,
): Promise<number> {
  const result = await messagingTables(db, schema)
    .deleteFrom('outbox')
    .where('published_at', 'is not', null)
    .where('published_at', '<', before)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Delete inbox rows applied before `before`. */
export async function deleteAppliedInbox(db: Kysely<object>, schema: string, before: Date): Promise<number> {
  const result = await messagingTables(db, schema)
    .deleteFrom('inbox')
    .where('applied_at', '<', before)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
