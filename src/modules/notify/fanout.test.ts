import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../test/helpers/database.js';
import type { Database } from '../../platform/db/database.js';
import { waitFor } from '../../platform/messaging/test-support.js';
import { CourseUpdatedEvent } from '../catalog/index.js';
import { RolesChangedEvent, UserRegisteredEvent } from '../identity/index.js';
import { EntitlementGrantedEvent, EntitlementRevokedEvent } from '../learning/index.js';
import { type NotifyTest, startNotify } from './notify.test-support.js';

const LEARNERS = 10_000;
let db: Database | undefined;
const running: NotifyTest[] = [];

afterAll(async () => {
  for (const t of running) await t.stop();
  await db?.close();
});

/** An instance on the shared database; stopping it leaves the database to the next one. */
async function instance(batch: number): Promise<NotifyTest> {
  db ??= await freshDatabase();
  const t = await startNotify(
    { settings: { NOTIFY_FANOUT_BATCH: batch } },
    { platform: { database: { ...db, close: () => Promise.resolve() } }, env: { JOBS_POLL_MS: '500' } },
  );
  running.push(t);
  return t;
}

const count = async (t: NotifyTest, query: ReturnType<typeof sql<{ n: string }>>) =>
  Number((await query.execute(t.app.platform.database.db)).rows[0]?.n ?? 0);

describe('course-update fan-out', () => {
  it('reaches 10,000 entitled learners and resumes after a restart midway without duplicates', async () => {
    const first = await instance(500);
    // the first instance's worker runs no job: the test runs one step as it would, then stops the
    // instance, so the restart is midway by construction (left to run, on the embedded database
    // the worker took every step before the test's poll got a turn on the one connection)
    await first.app.platform.jobs.stop();
    const courseId = randomUUID();
    // the entitlement copy is filled from learning's events (see the next test); 10,000 events
    // through the bus would only make this test slow, so the copy is written directly here
    await sql`
      insert into notify.entitlements (course_id, user_id)
      select ${courseId}, gen_random_uuid()::text from generate_series(1, ${LEARNERS})`.execute(
      first.app.platform.database.db,
    );
    const event = await first.emit(CourseUpdatedEvent, {
      courseId,
      ownerId: randomUUID(),
      status: 'published',
      changes: ['outline'],
      priceAmount: 9900,
      currency: 'CNY',
    });
    const reached = () =>
      count(first, sql<{ n: string }>`select coalesce(sum(reached), 0) as n from notify.fanouts`);
    const [started] = await first.rows<{ id: string }>('fanouts');
    if (!started) throw new Error('no fan-out started');
    await first.runJob('notify.fanout-step', { fanoutId: started.id });
    await first.stop();
    running.splice(running.indexOf(first), 1);
    expect(await reached()).toBe(500);

    // a new instance picks up the queued next step
    const second = await instance(500);
    await waitFor(
      async () =>
        (await count(
          second,
          sql<{ n: string }>`select count(*) as n from notify.fanouts where status = 'done'`,
        )) === 1,
      'the fan-out to finish',
      120_000,
    );
    // the same event again (redelivered after the restart) starts nothing new
    await second.emit(CourseUpdatedEvent, event.data as never, { id: event.id });

    const rows = await sql<{ total: string; people: string }>`
      select count(*) as total, count(distinct recipient_id) as people
      from notify.notifications where kind = 'course_updated'`.execute(second.app.platform.database.db);
    expect([Number(rows.rows[0]?.total), Number(rows.rows[0]?.people)]).toEqual([LEARNERS, LEARNERS]);
    const [fanout] = await second.rows<{ reached: number; status: string }>('fanouts');
    expect(fanout).toMatchObject({ reached: LEARNERS, status: 'done' });
    // in-app only by default: no email was queued for 10,000 people
    expect(await second.rows('deliveries')).toHaveLength(0);
  }, 180_000);

  it('keeps the entitlement copy from learning’s events; admins broadcast to a role in batches', async () => {
    const t = await instance(2);
    const courseId = randomUUID();
    const [a, b, c] = await Promise.all([t.caller(), t.caller(), t.caller('instructor')]);
    const grant = (userId: string) =>
      t.emit(EntitlementGrantedEvent, {
        userId,
        courseId,
        source: 'order',
        sourceId: randomUUID(),
        grantedAt: new Date().toISOString(),
      });
    await grant(a.id);
    await grant(b.id);
    await t.emit(EntitlementRevokedEvent, {
      userId: b.id,
      courseId,
      source: 'order',
      sourceId: null,
      reason: 'refund',
      revokedAt: new Date().toISOString(),
    });
    expect(
      (await t.rows<{ user_id: string }>('entitlements', `course_id = '${courseId}'`)).map((r) => r.user_id),
    ).toEqual([a.id]);

    // events published together reach the copy as a batch: the last event of each pair decides
    const later = randomUUID();
    const revoke = (userId: string) =>
      t.emit(EntitlementRevokedEvent, {
        userId,
        courseId: later,
        source: 'order',
        sourceId: null,
        reason: 'refund',
        revokedAt: new Date().toISOString(),
      });
    const grantLater = (userId: string) =>
      t.emit(EntitlementGrantedEvent, {
        userId,
        courseId: later,
        source: 'order',
        sourceId: randomUUID(),
        grantedAt: new Date().toISOString(),
      });
    await Promise.all([grantLater(a.id), revoke(a.id), revoke(b.id), grantLater(b.id), grantLater(c.id)]);
    expect(
      (await t.rows<{ user_id: string }>('entitlements', `course_id = '${later}'`))
        .map((r) => r.user_id)
        .sort(),
    ).toEqual([b.id, c.id].sort());

    for (const [user, roles] of [
      [a, ['learner']],
      [b, ['learner']],
      [c, ['learner', 'instructor']],
    ] as const) {
      await t.emit(UserRegisteredEvent, {
        userId: user.id,
        email: `${user.id}@example.test`,
        displayName: 'x',
      });
      await t.emit(RolesChangedEvent, { userId: user.id, roles: [...roles], changedBy: randomUUID() });
    }
    const admin = await t.caller('admin');
    await t.expectStatus(403, 'POST', '/api/v1/admin/notify/broadcasts', {
      as: a,
      body: { title: 'x', body: 'y', segment: { type: 'all' } },
    });
    const sent = await t.expectStatus<{ id: string; status: string }>(
      202,
      'POST',
      '/api/v1/admin/notify/broadcasts',
      {
        as: admin,
        body: { title: 'Learners only', body: 'Hello', segment: { type: 'role', role: 'learner' } },
      },
    );
    await waitFor(
      async () =>
        (
          await t.expectStatus<{ status: string }>(200, 'GET', `/api/v1/admin/notify/broadcasts/${sent.id}`, {
            as: admin,
          })
        ).status === 'done',
      'the broadcast to finish',
      30_000,
    );
    const done = await t.expectStatus<{ reached: number }>(
      200,
      'GET',
      `/api/v1/admin/notify/broadcasts/${sent.id}`,
      {
        as: admin,
      },
    );
    expect(done.reached).toBe(3);
    const inbox = await t.expectStatus<{ data: { kind: string; title: string }[] }>(
      200,
      'GET',
      '/api/v1/me/notifications',
      {
        as: c,
      },
    );
    expect(inbox.data.filter((n) => n.kind === 'announcement').map((n) => n.title)).toEqual([
      'Learners only',
    ]);
    await t.expectStatus(404, 'GET', `/api/v1/admin/notify/broadcasts/${randomUUID()}`, { as: admin });
    const bad = await t.request('POST', '/api/v1/admin/notify/broadcasts', {
      as: admin,
      body: { title: 'x\u0000', body: 'y', segment: { type: 'role', role: 'nobody' } },
    });
    expect(bad.statusCode).toBe(400);
  });
});
