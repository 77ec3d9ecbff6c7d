import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClock } from '../../platform/clock.js';
import { waitFor } from '../../platform/messaging/test-support.js';
import { CourseUpdatedEvent, LessonAddedEvent } from '../catalog/index.js';
import { UserRegisteredEvent } from '../identity/index.js';
import { EntitlementGrantedEvent } from '../learning/index.js';
import { type NotifyTest, startNotify } from './notify.test-support.js';
import { startSmtp } from './smtp.test-support.js';

const clock = createTestClock(new Date('2026-03-01T10:00:00.000Z'));
let t: NotifyTest;
let smtp: Awaited<ReturnType<typeof startSmtp>>;

beforeAll(async () => {
  smtp = await startSmtp();
  t = await startNotify({ clock }, { env: { SMTP_URL: smtp.url, JOBS_POLL_MS: '500' } });
}, 120_000);
afterAll(async () => {
  await t.stop();
  await smtp.close();
});

async function learner(
  courseIds: string[],
  digest: boolean,
  quietHours?: { start: string; end: string; timeZone: string },
) {
  const user = await t.caller('learner');
  await t.emit(UserRegisteredEvent, { userId: user.id, email: `${user.id}@example.test`, displayName: 'L' });
  for (const courseId of courseIds) {
    await t.emit(EntitlementGrantedEvent, {
      userId: user.id,
      courseId,
      source: 'order',
      sourceId: randomUUID(),
      grantedAt: clock().toISOString(),
    });
  }
  if (digest) {
    await t.expectStatus(200, 'PUT', '/api/v1/me/notification-preferences', {
      as: user,
      body: {
        kinds: [{ kind: 'course_digest', channels: { email: true } }],
        ...(quietHours ? { quietHours } : {}),
      },
    });
  }
  return user;
}

const count = async (query: string) => {
  const { rows } = await sql<{ n: string }>`${sql.raw(query)}`.execute(t.app.platform.database.db);
  return Number(rows[0]?.n ?? 0);
};
const fanoutsDone = (n: number) =>
  waitFor(
    async () => (await count(`select count(*) as n from notify.fanouts where status = 'done'`)) === n,
    `${n} fan-outs to finish`,
    30_000,
  );

/** Run the digest job through the queue, as its cron tick would, and wait until it completed. */
async function runDigest(data: { day?: string }) {
  const id = await t.app.platform.jobs.send('notify.course-digest', data);
  await waitFor(async () => {
    const { rows } = await sql<{ state: string }>`select state from pgboss.job where id = ${id}`.execute(
      t.app.platform.database.db,
    );
    if (rows[0]?.state === 'failed') throw new Error('the digest job failed');
    return rows[0]?.state === 'completed';
  }, 'the digest job');
}

// quoted-printable soft line breaks removed, so a long line can be searched whole
const bodyOf = (raw: string) => raw.replace(/=\r?\n/g, '');
const digestsTo = (userId: string) =>
  smtp.mails.filter(
    (m) => m.to.includes(`${userId}@example.test`) && m.subject.startsWith('Your course updates of'),
  );

describe('daily course-update digest', () => {
  it('mails one digest per subscriber for a given day (UTC without a time zone), with that day’s updates only, and a rerun sends nothing twice', async () => {
    const [x, y, z] = [randomUUID(), randomUUID(), randomUUID()];
    const a = await learner([x, y], true); // digest on, two updated courses
    const b = await learner([x], false); // digest off (the default)
    const c = await learner([z], true); // digest on, nothing updated

    const course = (courseId: string, changes: string[]) => ({
      courseId,
      ownerId: randomUUID(),
      status: 'published' as const,
      changes,
      priceAmount: 9900,
      currency: 'CNY',
    });
    await t.emit(CourseUpdatedEvent, course(x, ['outline']));
    await t.emit(LessonAddedEvent, {
      courseId: x,
      lessonId: randomUUID(),
      chapterId: randomUUID(),
      title: 'Intro',
      kind: 'article',
      freePreview: false,
      courseStatus: 'published',
    });
    await t.emit(CourseUpdatedEvent, course(y, ['title']));
    await fanoutsDone(3);
    // the next UTC day's update belongs to the next digest
    clock.set(new Date('2026-03-02T00:30:00.000Z'));
    await t.emit(CourseUpdatedEvent, course(x, ['cover']));
    await fanoutsDone(4);

    await runDigest({ day: '2026-03-01' });
    await waitFor(async () => Promise.resolve(digestsTo(a.id).length === 1), 'the digest mail', 30_000);
    const [mail] = digestsTo(a.id);
    expect(mail?.subject).toBe('Your course updates of 2026-03-01');
    const body = bodyOf(mail?.raw ?? '');
    expect(body).toMatch(new RegExp(`${x}: (outline, new lesson: Intro|new lesson: Intro, outline)`));
    expect(body).toContain(`${y}: title`);
    expect(body).not.toContain('cover');

    // a rerun of the day, and the cron's own run (yesterday, by the clock), add nothing
    await runDigest({ day: '2026-03-01' });
    await runDigest({});
    await waitFor(
      async () =>
        (await count(
          `select count(*) as n from notify.deliveries d join notify.notifications n on n.id = d.notification_id
           where n.kind = 'course_digest' and d.status not in ('sent', 'skipped')`,
        )) === 0,
      'digest deliveries to settle',
      30_000,
    );
    expect(await count(`select count(*) as n from notify.notifications where kind = 'course_digest'`)).toBe(
      1,
    );
    expect(digestsTo(a.id)).toHaveLength(1);
    expect(digestsTo(b.id)).toEqual([]);
    expect(digestsTo(c.id)).toEqual([]);
    // without the digest, course updates stay in-app only (no per-update mail either)
    expect(
      smtp.mails.filter((m) => m.to.includes(`${b.id}@example.test`) && m.subject.includes('updated')),
    ).toEqual([]);
  }, 180_000);

  it('goes out in each person’s local morning with their previous local day (the quiet-hours zone), UTC without one', async () => {
    const w = randomUUID();
    const east = await learner([w], true, { start: '23:00', end: '07:00', timeZone: 'Asia/Shanghai' });
    const utc = await learner([w], true);
    const done = await count(`select count(*) as n from notify.fanouts where status = 'done'`);
    const updateAt = async (at: string, change: string, n: number) => {
      clock.set(new Date(at));
      await t.emit(CourseUpdatedEvent, {
        courseId: w,
        ownerId: randomUUID(),
        status: 'published',
        changes: [change],
        priceAmount: 9900,
        currency: 'CNY',
      });
      await fanoutsDone(done + n);
    };
    // Shanghai is UTC+8: 15:00Z is 23:00 on the 4th there, 17:00Z is 01:00 on the 5th
    await updateAt('2026-03-04T15:00:00.000Z', 'alpha', 1);
    await updateAt('2026-03-04T17:00:00.000Z', 'beta', 2);
    await updateAt('2026-03-05T20:00:00.000Z', 'gamma', 3); // the 5th in UTC, the 6th in Shanghai

    // 00:05Z on the 6th is 08:05 in Shanghai: its people get their 5th; UTC's hour has not come
    clock.set(new Date('2026-03-06T00:05:00.000Z'));
    await runDigest({});
    await waitFor(
      async () => Promise.resolve(digestsTo(east.id).length === 1),
      'the Shanghai digest',
      30_000,
    );
    const eastBody = bodyOf(digestsTo(east.id)[0]?.raw ?? '');
    expect(digestsTo(east.id)[0]?.subject).toBe('Your course updates of 2026-03-05');
    expect(eastBody).toContain(`${w}: beta`);
    expect(eastBody).not.toContain('alpha');
    expect(eastBody).not.toContain('gamma');
    expect(digestsTo(utc.id)).toEqual([]);

    // 08:05Z: the UTC morning; Shanghai is at 16:05 and gets nothing more
    clock.set(new Date('2026-03-06T08:05:00.000Z'));
    await runDigest({});
    await waitFor(async () => Promise.resolve(digestsTo(utc.id).length === 1), 'the UTC digest', 30_000);
    const utcBody = bodyOf(digestsTo(utc.id)[0]?.raw ?? '');
    expect(digestsTo(utc.id)[0]?.subject).toBe('Your course updates of 2026-03-05');
    expect(utcBody).toContain(`${w}: gamma`);
    expect(utcBody).not.toContain('beta');
    expect(digestsTo(east.id)).toHaveLength(1);
  }, 180_000);

  it('refuses a day that is not YYYY-MM-DD', async () => {
    await expect(t.notify.digest.send('2026-3-1')).rejects.toThrow(/not a day/);
    await expect(t.notify.digest.send('2026-02-30x')).rejects.toThrow(/not a day/);
  });
});
