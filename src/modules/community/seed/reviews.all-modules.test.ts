import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAllModulesApp } from '../../../../test/helpers/all-modules.js';
import type { TestApp } from '../../../../test/helpers/app.js';
import { freePort } from '../../../../test/helpers/ports.js';
import { waitFor } from '../../../platform/messaging/test-support.js';
import type { ComposedModules } from '../../registry.js';
import { DEMO_LEARNER_IDS } from '../../identity/index.js';

/**
 * The demo as `npm start` makes it: every module's seed in the registry's order on the whole app
 * (community's before commerce's sales), with the relay, the consumers and the jobs running. The
 * reviews come afterwards, from learning's grants of the demo sales.
 */

interface OrderWire {
  userId: string;
  status: string;
  lines: { courseId: string }[];
}
interface ReviewWire {
  author: { id: string; displayName: string | null };
  verified: boolean;
  votes: { helpful: number };
}
interface RatingWire {
  courseId: string;
  count: number;
}

let t: TestApp;
let composed: ComposedModules;

const call = async <T>(method: 'GET' | 'POST', url: string, token?: string, body?: object): Promise<T> => {
  const res = await t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(body === undefined ? {} : { payload: body }),
  });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json<T>();
};

beforeAll(async () => {
  const port = await freePort();
  ({ t, composed } = await buildAllModulesApp({ env: { PORT: String(port) } }));
  // the sandbox posts to this app's notify URL, as under `npm start`
  await t.app.listen({ host: '127.0.0.1', port });
}, 60_000);
afterAll(async () => {
  await t.stop();
});

describe('demo reviews with the real seeds', () => {
  // the demo catalog is about 900 service calls (see catalog's seed test)
  it('after seeding, the demo buyers review what they own, and the course ratings list them', {
    timeout: 300_000,
  }, async () => {
    // what `lectern serve` does with SEED_DEMO on (main.ts seedModules)
    for (const module of composed.modules) await module.seed?.();

    const admin = (
      await call<{ accessToken: string }>('POST', '/auth/login', undefined, {
        email: 'admin@demo.lectern.dev',
        password: 'orchid-lantern-7421',
      })
    ).accessToken;
    const orders = (await call<{ data: OrderWire[] }>('GET', '/admin/orders?limit=100', admin)).data;
    const sale = (o: OrderWire) => ({ userId: o.userId, courseId: o.lines[0]?.courseId ?? '' });
    const owned = orders.filter((o) => o.status === 'paid').map(sale);
    const refunded = orders.filter((o) => o.status === 'refunded').map(sale);
    expect(owned.length).toBeGreaterThan(0);
    expect(refunded).toHaveLength(1);

    const reviewsOf = async (courseId: string) =>
      (await call<{ data: ReviewWire[] }>('GET', `/courses/${courseId}/reviews`)).data;
    const rated = async () =>
      new Map(
        (await call<{ data: RatingWire[] }>('GET', '/course-ratings?limit=100')).data.map((r) => [
          r.courseId,
          r.count,
        ]),
      );
    const ownedCourses = [...new Set(owned.map((s) => s.courseId))];
    // polled in the database (the API's per-client limit would refuse a tight loop of requests)
    const pending = sql<{ jobs: number; unrated: number }>`
      select (select count(*)::int from pgboss.job where name = 'community.demo-review'
                and state not in ('completed', 'failed', 'cancelled')) as jobs,
             (select count(*)::int from unnest(${ownedCourses}::uuid[]) as c(id)
               where not exists (select 1 from community.course_ratings r
                                  where r.course_id = c.id and r.count > 0)) as unrated`;
    await waitFor(
      async () => {
        await t.relay.runOnce();
        const [left] = (await pending.execute(t.platform.database.db)).rows;
        return left?.jobs === 0 && left.unrated === 0;
      },
      'the demo reviews and the ratings they make',
      120_000,
    );
    const counts = await rated();
    for (const courseId of ownedCourses) expect(counts.get(courseId), courseId).toBeGreaterThanOrEqual(1);

    // each buyer's review of what they own: by them, verified, found helpful by another demo learner
    for (const { userId, courseId } of owned) {
      const reviews = await reviewsOf(courseId);
      const mine = reviews.find((r) => r.author.id === userId);
      expect(mine, `${userId} on ${courseId}`).toMatchObject({ verified: true, votes: { helpful: 1 } });
      expect(mine?.author.displayName).toBeTruthy();
      for (const review of reviews) expect(DEMO_LEARNER_IDS).toContain(review.author.id);
    }
    // the refunded sale: no review, or (its job ran before the revocation) one without the mark
    for (const { userId, courseId } of refunded) {
      const theirs = sql<{ verified: boolean }>`select verified from community.reviews
        where author_id = ${userId} and course_id = ${courseId}`;
      await waitFor(async () => {
        await t.relay.runOnce();
        return (await theirs.execute(t.platform.database.db)).rows.every((r) => !r.verified);
      }, 'the refund to take the mark away');
      expect((await theirs.execute(t.platform.database.db)).rows.length).toBeLessThanOrEqual(1);
    }
    const failed = await sql<{ n: number }>`select count(*)::int as n from pgboss.job
      where name = 'community.demo-review' and state = 'failed'`.execute(t.platform.database.db);
    expect(failed.rows[0]?.n).toBe(0);
  });
});
