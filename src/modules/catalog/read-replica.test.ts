import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshReplicatedDatabase, type ReplicatedDatabase } from '../../../test/helpers/database.js';
import { type CatalogTest, pageIds, settleEvents, startCatalog } from './catalog.test-support.js';

// DATABASE_READ_URL: the catalog's public reads go to the replica, every write and the editor's
// own reads to the primary. The replica is a second database on the same server, brought up to
// date only when the test says so, so a lag shows which side answered.
const databaseUrl = process.env.DATABASE_URL;

describe.skipIf(!databaseUrl)('catalog reads from a replica', () => {
  let replicated: ReplicatedDatabase;
  let t: CatalogTest;

  beforeAll(async () => {
    replicated = await freshReplicatedDatabase(databaseUrl ?? '');
    t = await startCatalog({}, {}, { database: replicated.database });
    // the replica starts as a copy of the migrated, empty primary
    await replicated.replicate(['catalog']);
  });

  afterAll(async () => {
    await t.app.stop();
  });

  it('writes land on the primary only; public reads answer from the replica until it catches up', async () => {
    const { id } = await t.publishedCourse({ title: 'Replicated course' });
    await settleEvents(t.app);
    expect(await replicated.count('catalog.courses')).toEqual({ primary: 1, replica: 0 });

    // the replica lags: the public list and page do not know the course yet
    const lagging = await t.request('GET', '/api/v1/courses?limit=10');
    expect(lagging.statusCode).toBe(200);
    expect(pageIds(lagging)).toEqual([]);
    expect((await t.request('GET', `/api/v1/courses/${id}`)).statusCode).toBe(404);
    const search = await t.request('GET', '/api/v1/courses?q=Replicated');
    expect(pageIds(search)).toEqual([]);

    // its owner reads the primary and sees what they just wrote
    const own = await t.request('GET', `/api/v1/courses/${id}`, { as: t.instructor });
    expect(own.statusCode).toBe(200);
    expect(own.json<{ title: string }>().title).toBe('Replicated course');

    await replicated.replicate(['catalog']);
    // another page size: a key the list cache has not seen, so the replica answers afresh
    expect(pageIds(await t.request('GET', '/api/v1/courses?limit=11'))).toEqual([id]);
    expect((await t.request('GET', `/api/v1/courses/${id}`)).statusCode).toBe(200);
    expect(pageIds(await t.request('GET', '/api/v1/courses?q=Replicated'))).toEqual([id]);
  });

  it('an edit is written to the primary; search (never cached) finds it once the replica has it', async () => {
    const { id } = await t.publishedCourse({ title: 'Zebrafish anatomy' });
    await replicated.replicate(['catalog']);
    expect(pageIds(await t.request('GET', '/api/v1/courses?q=Zebrafish'))).toEqual([id]);

    const edited = await t.request('PATCH', `/api/v1/courses/${id}`, {
      as: t.instructor,
      body: { title: 'Octopus anatomy' },
    });
    expect(edited.statusCode).toBe(200);
    expect(await titleOn(replicated, id)).toEqual({
      primary: 'Octopus anatomy',
      replica: 'Zebrafish anatomy',
    });
    expect(pageIds(await t.request('GET', '/api/v1/courses?q=Octopus'))).toEqual([]);
    expect(pageIds(await t.request('GET', '/api/v1/courses?q=Zebrafish'))).toEqual([id]);

    await replicated.replicate(['catalog']);
    expect(pageIds(await t.request('GET', '/api/v1/courses?q=Octopus'))).toEqual([id]);
    expect(pageIds(await t.request('GET', '/api/v1/courses?q=Zebrafish'))).toEqual([]);
  });
});

async function titleOn(replicated: ReplicatedDatabase, id: string) {
  const { database } = replicated;
  const on = async (db: typeof database.db) =>
    (
      await db
        .withTables<{ 'catalog.courses': { id: string; title: string } }>()
        .selectFrom('catalog.courses')
        .select('title')
        .where('id', '=', id)
        .executeTakeFirst()
    )?.title;
  return { primary: await on(database.db), replica: await on(database.read) };
}
