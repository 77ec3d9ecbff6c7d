import type { Insertable } from 'kysely';
import type { IdentityDb } from './context.js';
import type { ClientTable } from './tables.js';

export function findClient(db: IdentityDb, clientId: string) {
  return db.selectFrom('identity.clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

export function insertClient(db: IdentityDb, row: Insertable<ClientTable>) {
  return db.insertInto('identity.clients').values(row).returningAll().executeTakeFirstOrThrow();
}

export function listClients(db: IdentityDb) {
  return db.selectFrom('identity.clients').selectAll().orderBy('created_at').execute();
}
