import type { Insertable, Updateable } from 'kysely';
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

export function updateClient(db: IdentityDb, clientId: string, set: Updateable<ClientTable>) {
  return db
    .updateTable('identity.clients')
    .set(set)
    .where('client_id', '=', clientId)
    .returningAll()
    .executeTakeFirst();
}
