// The floor of the two goals PostgreSQL decides (issue 10's checkouts, issue 13's uncached
// reviews): bare Fastify and pg doing the least the goal's route must do, on a scratch database of
// its own on the run's PostgreSQL, created here and dropped on stop. No token, no rate limit, no
// log, no idempotency, no event consumer, no provider: what is left is HTTP, the pg driver and the
// statements. A Lectern route cannot beat its row on this machine; how far below it the route
// sits is what Lectern's own work costs.
//
// BARE_PG=checkout: the bench's three checkout requests on the same paths. The order and its line
// in one transaction; the payment attempt; then, as the provider's notification would, the order
// and payment locked, the payment and the order paid with the transition row, the sale's three
// postings and the outbox row in one transaction.
// BARE_PG=reviews: the reviews page's statement (`reviewsPageText`, as `listVisibleReviews` runs it,
// best first, a signed-in reader) on the community schema and the 10,000 reviews Lectern's own
// scenario seeds, a pool of 500 pages, each row's JSON joined into the page.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { childControl, fatal } from './child.js';
import type { BenchRequest } from './protocol.js';
import { type ScratchDatabase, scratchDatabase } from './scratch-database.js';
import { Kysely, PostgresDialect } from 'kysely';
import { communityMigrations } from '../src/modules/community/migrations/index.js';
import { reviewsPageText } from '../src/modules/community/reviews.queries.js';
import { seedBulkReviews } from '../src/modules/community/seed/bulk.js';
import type { CommunityTables } from '../src/modules/community/tables.js';
import { migrateAll } from '../src/platform/db/migrations.js';

const KIND = process.env.BARE_PG === 'reviews' ? 'reviews' : 'checkout';
const SCENARIO = `floor/${KIND}`;
/** Checkouts' buyers: more than 50 connections complete in warm-up and measurement at ~1k/s. */
const BUYERS = 40_000;
const REVIEWS = 10_000;
const PAGE = 20;

const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) fatal(new Error('bare-pg needs DATABASE_URL'));
let scratch: ScratchDatabase | undefined;
let pool: pg.Pool | undefined;

async function inTransaction(p: pg.Pool, work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await p.connect();
  try {
    await client.query('begin');
    await work(client);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

const CHECKOUT_SCHEMA = `
  create table orders (id uuid primary key, learner_id uuid not null, status text not null,
    total bigint not null, currency text not null, created_at timestamptz not null default now(),
    paid_at timestamptz);
  create table order_lines (order_id uuid not null references orders, course_id uuid not null,
    amount bigint not null, primary key (order_id, course_id));
  create table payments (id uuid primary key, order_id uuid not null references orders,
    status text not null, amount bigint not null, provider_txn_id text unique,
    created_at timestamptz not null default now());
  create table order_transitions (id bigserial primary key, order_id uuid not null, from_status text,
    to_status text not null, actor text not null, at timestamptz not null default now());
  create table postings (id bigserial primary key, journal text not null, account text not null,
    amount bigint not null);
  create table outbox (id uuid primary key, type text not null, payload jsonb not null,
    created_at timestamptz not null default now(), published_at timestamptz);`;

function checkoutRoutes(app: FastifyInstance, p: pg.Pool): void {
  const run = (client: pg.ClientBase | pg.Pool, statement: string, text: string, values: unknown[]) =>
    client.query({ name: statement, text, values });
  app.post<{ Body: { courseIds: string[] } }>('/api/v1/orders', async (request, reply) => {
    const id = randomUUID();
    await inTransaction(p, async (client) => {
      await run(
        client,
        'order',
        `insert into orders (id, learner_id, status, total, currency) values ($1, $2, 'pending', 9900, 'CNY')`,
        [id, randomUUID()],
      );
      await run(
        client,
        'line',
        'insert into order_lines (order_id, course_id, amount) values ($1, $2, 9900)',
        [id, request.body.courseIds[0]],
      );
    });
    return reply.status(201).send({ id });
  });
  app.post<{ Params: { id: string } }>('/api/v1/orders/:id/payments', async (request, reply) => {
    const id = randomUUID();
    await run(
      p,
      'payment',
      `insert into payments (id, order_id, status, amount) values ($1, $2, 'pending', 9900)`,
      [id, request.params.id],
    );
    return reply.status(201).send({ id });
  });
  app.post<{ Params: { id: string } }>('/api/v1/sandbox/pay/:id', async (request, reply) => {
    await inTransaction(p, async (client) => {
      const { rows } = await run(
        client,
        'lock',
        `select o.id, o.status from payments p join orders o on o.id = p.order_id where p.id = $1
           for update of o, p`,
        [request.params.id],
      );
      const order = rows[0] as { id: string; status: string } | undefined;
      if (order?.status !== 'pending') return;
      await run(
        client,
        'paid-payment',
        `update payments set status = 'succeeded', provider_txn_id = $2 where id = $1`,
        [request.params.id, randomUUID()],
      );
      await run(
        client,
        'paid-order',
        `with o as (update orders set status = 'paid', paid_at = now() where id = $1 returning id)
         insert into order_transitions (order_id, from_status, to_status, actor)
         select id, 'pending', 'paid', 'provider' from o`,
        [order.id],
      );
      await run(
        client,
        'journal',
        `insert into postings (journal, account, amount)
         values ($1, 'provider_clearing', 9900), ($1, 'platform_revenue', -2970), ($1, 'instructor_payable', -6930)`,
        [`sale:${order.id}`],
      );
      await run(
        client,
        'event',
        `insert into outbox (id, type, payload) values ($1, 'commerce.order.paid', $2)`,
        [randomUUID(), { orderId: order.id }],
      );
    });
    return reply.status(204).send();
  });
}

// the route's statement itself (best first, a signed-in reader, after a cursor)
const REVIEWS_PAGE = reviewsPageText('best', PAGE, { reader: true, after: true });

interface PageRow {
  id: string;
  after: number;
  review: string;
}

/**
 * The community schema as its migrations make it (the page's partial index included) and 10,000
 * reviews of one course from the generator Lectern's own scenario seeds with (`seedBulkReviews`),
 * through a Kysely of its own that is closed before the load.
 */
async function reviewsData(url: string): Promise<{ courseId: string; readerId: string }> {
  const courseId = randomUUID();
  const db = new Kysely<object>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
  });
  try {
    await migrateAll(db, [{ schema: 'community', migrations: communityMigrations }]);
    await seedBulkReviews(db.withTables<CommunityTables>(), courseId, REVIEWS, { mean: 3.5, weight: 10 });
  } finally {
    await db.destroy();
  }
  return { courseId, readerId: randomUUID() };
}

function reviewsRoutes(app: FastifyInstance, p: pg.Pool, ids: { courseId: string; readerId: string }) {
  app.get<{ Querystring: { cursor: string } }>(
    '/api/v1/courses/:courseId/reviews',
    async (request, reply) => {
      const [after, id] = JSON.parse(Buffer.from(request.query.cursor, 'base64url').toString()) as [
        number,
        string,
      ];
      const { rows } = await p.query<PageRow>({
        name: 'page',
        text: REVIEWS_PAGE,
        values: [ids.courseId, ids.readerId, after, id],
      });
      const page = rows.slice(0, PAGE);
      const last = page[page.length - 1];
      const next =
        rows.length > PAGE && last
          ? Buffer.from(JSON.stringify([last.after, last.id])).toString('base64url')
          : null;
      return reply
        .type('application/json; charset=utf-8')
        .send(`{"data":[${page.map((r) => r.review).join(',')}],"nextCursor":${JSON.stringify(next)}}`);
    },
  );
}

/** The 500 pages' cursors, walked in order (the first page's cursor sorts before every row). */
async function reviewPaths(p: pg.Pool, ids: { courseId: string; readerId: string }): Promise<string[]> {
  const paths: string[] = [];
  let cursor: [number, string] = [2, 'ffffffff-ffff-ffff-ffff-ffffffffffff'];
  for (let i = 0; i < REVIEWS / PAGE; i++) {
    const encoded = Buffer.from(JSON.stringify(cursor)).toString('base64url');
    paths.push(`/api/v1/courses/${ids.courseId}/reviews?sort=best&cursor=${encoded}`);
    const { rows } = await p.query<PageRow>(REVIEWS_PAGE, [ids.courseId, ids.readerId, ...cursor]);
    const last = rows[PAGE - 1];
    if (!last) break;
    cursor = [last.after, last.id];
  }
  return paths;
}

const app = Fastify({ logger: false });
let request: BenchRequest | undefined;
const control = childControl({
  prepare: (scenario) =>
    request && scenario === SCENARIO
      ? Promise.resolve(request)
      : Promise.reject(new Error(`no scenario ${scenario}`)),
  async stop() {
    await app.close();
    await pool?.end();
    await scratch?.drop();
  },
});

try {
  scratch = await scratchDatabase(adminUrl, 'lectern_floor');
  pool = new pg.Pool({ connectionString: scratch.url, max: 10 });
  // an idle connection's end when the database is dropped at stop is expected, not a crash
  pool.on('error', () => undefined);
  if (KIND === 'checkout') {
    await pool.query(CHECKOUT_SCHEMA);
    checkoutRoutes(app, pool);
    const buyers = Array.from({ length: BUYERS }, () => ({ authorization: '', courseId: randomUUID() }));
    request = { method: 'POST', path: '/api/v1/orders', checkout: { buyers } };
  } else {
    const ids = await reviewsData(scratch.url);
    reviewsRoutes(app, pool, ids);
    const paths = await reviewPaths(pool, ids);
    request = { path: `/api/v1/courses/${ids.courseId}/reviews (best, every page)`, paths };
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  control.ready({ port: address.port, scenarios: [SCENARIO] });
} catch (err) {
  await scratch?.drop().catch(() => undefined);
  fatal(err);
}
