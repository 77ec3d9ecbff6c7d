import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LearningTest, type ProgressState, startLearning } from './learning.test-support.js';

let t: LearningTest;
beforeAll(async () => {
  t = await startLearning();
}, 120_000);
afterAll(async () => {
  await t.kit.stop();
});

/** The default bought course has three lessons: a 60 s preview and two of 600 s. */
async function threeLessons(test: LearningTest) {
  const bought = await test.bought();
  return { ...bought, lessons: bought.lessons as [string, string, string] };
}

describe('progress reports', () => {
  it('never moves back: older reports and reports too soon after the last are ignored', async () => {
    const { learner, lessons } = await threeLessons(t);
    const lesson = lessons[1];
    const t1 = t.clock().toISOString();
    expect(await t.reported(learner, lesson, { position: 100, reportedAt: t1 })).toMatchObject({
      accepted: true,
      position: 100,
      resumePosition: 100,
    });
    t.clock.advance(10);
    const older = new Date(Date.parse(t1) - 5000).toISOString();
    expect(await t.reported(learner, lesson, { position: 50, reportedAt: older })).toMatchObject({
      accepted: false,
      position: 100,
      resumePosition: 100,
    });
    // the same report again is the same answer (idempotent)
    expect(await t.reported(learner, lesson, { position: 100, reportedAt: t1 })).toMatchObject({
      accepted: false,
      position: 100,
    });
    const t2 = t.clock().toISOString();
    expect(await t.reported(learner, lesson, { position: 40, reportedAt: t2 })).toMatchObject({
      accepted: true,
      position: 100,
      resumePosition: 40,
    });
    t.clock.advance(2);
    expect(await t.reported(learner, lesson, { position: 300 })).toMatchObject({
      accepted: false,
      position: 100,
    });
    t.clock.advance(5);
    expect(await t.reported(learner, lesson, { position: 300 })).toMatchObject({
      accepted: true,
      position: 300,
    });
    // past the end is the end
    t.clock.advance(5);
    expect(await t.reported(learner, lesson, { position: 5000 })).toMatchObject({
      position: 600,
      completed: true,
    });
  });

  it('completes lessons at the end or when marked, and the course once, with events exactly once', async () => {
    const { course, learner, lessons } = await threeLessons(t);
    expect(await t.reported(learner, lessons[1], { position: 600 })).toMatchObject({
      completed: true,
      courseProgressPercent: 33,
    });
    t.clock.advance(10);
    expect(await t.reported(learner, lessons[1], { position: 600, completed: true })).toMatchObject({
      completed: true,
      courseProgressPercent: 33,
    });
    expect(await t.reported(learner, lessons[0], { position: 5, completed: true })).toMatchObject({
      completed: true,
      courseProgressPercent: 66,
    });
    expect(await t.reported(learner, lessons[2], { position: 0, completed: false })).toMatchObject({
      completed: false,
    });
    // marking complete is not held back by the interval
    expect(await t.reported(learner, lessons[2], { position: 10, completed: true })).toMatchObject({
      accepted: true,
      completed: true,
      courseProgressPercent: 100,
    });
    t.clock.advance(10);
    await t.reported(learner, lessons[2], { position: 20, completed: true });

    const completedLessons = await t.learningEvents('learning.lesson.completed', learner.id);
    expect(completedLessons.map((e) => (e.data as { lessonId: string }).lessonId).sort()).toEqual(
      [...lessons].sort(),
    );
    const completedCourses = await t.learningEvents('learning.course.completed', learner.id);
    expect(completedCourses).toHaveLength(1);
    expect(completedCourses[0]?.data).toMatchObject({ courseId: course.id });
    expect(await t.learning.api.consumedShare(learner.id, course.id)).toBe(1);
  });

  it('counts learning time per UTC day from the gaps between reports, capped per report', async () => {
    const { learner, lessons } = await threeLessons(t);
    t.clock.set(new Date('2026-03-02T23:58:00.000Z'));
    await t.reported(learner, lessons[1], { position: 10 }); // first report: no gap yet
    t.clock.advance(30);
    await t.reported(learner, lessons[1], { position: 40 }); // +30
    t.clock.advance(3600);
    await t.reported(learner, lessons[1], { position: 100 }); // +60, the cap, on 3 March
    t.clock.advance(10);
    await t.reported(learner, lessons[1], { position: 100 }); // did not move: +0
    const time = await t.kit.expectStatus<{ data: { day: string; seconds: number }[] }>(
      200,
      'GET',
      '/api/v1/me/learning/time?days=7',
      { as: learner },
    );
    expect(time.data).toEqual([
      { day: '2026-03-02', seconds: 30 },
      { day: '2026-03-03', seconds: 60 },
    ]);
  });

  it('reports the consumed share by duration for commerce’s refund rule', async () => {
    const { course, learner, lessons } = await threeLessons(t);
    expect(await t.learning.api.consumedShare(learner.id, course.id)).toBe(0);
    await t.reported(learner, lessons[1], { position: 300 });
    expect(await t.learning.api.consumedShare(learner.id, course.id)).toBeCloseTo(300 / 1260, 4);
    expect(await t.learning.api.consumedShare(learner.id, 'not-a-uuid')).toBe(0);
    expect(await t.learning.api.consumedShare(t.admin.id, course.id)).toBe(0);
  });

  it('refuses reports from learners without the course, and malformed reports, changing nothing', async () => {
    const { learner, lessons } = await threeLessons(t);
    const stranger = await t.kit.caller('learner');
    const refused = await t.report(stranger, lessons[1], { position: 10 });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'learning.purchase-required' });
    const bad: [string, unknown, number][] = [
      [lessons[1], { position: 1e12 }, 400],
      [lessons[1], { position: Number.MAX_SAFE_INTEGER }, 400],
      [lessons[1], { position: -1 }, 400],
      [lessons[1], { position: 1.5 }, 400],
      [lessons[1], { position: '10\u0000' }, 400],
      [lessons[1], { position: 1, reportedAt: '2026-03-01\u0000' }, 400],
      [lessons[1], { position: 1, reportedAt: '2099-01-01T00:00:00.000Z' }, 400],
      [crypto.randomUUID(), { position: 1 }, 404],
      ['not-a-uuid', { position: 1 }, 400],
    ];
    for (const [lessonId, body, status] of bad) {
      const response = await t.report(learner, lessonId, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(status);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect(await t.report(learner, lessons[1], { position: 1 }).then((r) => r.statusCode)).toBe(200);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from learning.lesson_progress where user_id in (${learner.id}, ${stranger.id})`.execute(
      t.kit.app.platform.database.db,
    );
    expect(rows[0]?.n).toBe(1);
    expect(
      await t.report(learner, lessons[1], { position: 1 }).then((r) => r.json<ProgressState>()),
    ).toMatchObject({
      position: 1,
    });
  });
});

describe('my learning', () => {
  it('lists my courses with progress, most recently active first, in keyset pages', async () => {
    const learner = await t.kit.caller('learner');
    const courses = [];
    for (let i = 0; i < 3; i++) {
      const course = await t.course({ lessons: [{ durationSeconds: 100 }, { durationSeconds: 100 }] });
      await t.kit.expectStatus(200, 'POST', '/api/v1/admin/entitlements', {
        as: t.admin,
        body: { userId: learner.id, courseId: course.id, reason: 'gift' },
      });
      t.clock.advance(1);
      courses.push(course);
    }
    const [first, , third] = courses as [(typeof courses)[0], (typeof courses)[0], (typeof courses)[0]];
    t.clock.advance(10);
    await t.reported(learner, first.lessonIds[1] ?? '', { position: 100 });

    type Page = {
      data: {
        courseId: string;
        progressPercent: number;
        lastLessonId: string | null;
        resumePosition: number;
      }[];
      nextCursor: string | null;
    };
    const page1 = await t.kit.expectStatus<Page>(200, 'GET', '/api/v1/me/learning?limit=2', { as: learner });
    expect(page1.data.map((c) => c.courseId)).toEqual([first.id, third.id]);
    expect(page1.data[0]).toMatchObject({
      progressPercent: 50,
      lastLessonId: first.lessonIds[1],
      resumePosition: 100,
    });
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await t.kit.expectStatus<Page>(
      200,
      'GET',
      `/api/v1/me/learning?limit=2&cursor=${page1.nextCursor ?? ''}`,
      { as: learner },
    );
    expect(page2.data.map((c) => c.courseId)).toEqual([courses[1]?.id]);
    expect(page2.nextCursor).toBeNull();

    const other = await t.kit.expectStatus<Page>(200, 'GET', '/api/v1/me/learning', { as: t.instructor });
    expect(other.data).toEqual([]);
    for (const cursor of ['garbage', Buffer.from('["x","y"]').toString('base64url'), '%00']) {
      const response = await t.kit.request('GET', `/api/v1/me/learning?cursor=${cursor}`, { as: learner });
      expect(response.statusCode, cursor).toBe(400);
    }
    expect((await t.kit.request('GET', '/api/v1/me/learning')).statusCode).toBe(401);
  });
});

describe('concurrent reports', () => {
  let u: LearningTest;
  beforeAll(async () => {
    u = await startLearning({ progressIntervalSeconds: 0 });
  }, 120_000);
  afterAll(async () => {
    await u.kit.stop();
  });

  it('converge to the furthest position and complete the lesson once', async () => {
    const { learner, lessons } = await threeLessons(u);
    const positions = Array.from({ length: 20 }, (_, i) => (i + 1) * 30).sort(() => Math.random() - 0.5);
    const answers = await Promise.all(
      positions.map((position) => u.reported(learner, lessons[1], { position: position })),
    );
    for (const [i, answer] of answers.entries()) {
      expect(answer.position).toBeGreaterThanOrEqual(Math.min(positions[i] ?? 0, 600));
    }
    const { rows } = await sql<{ max_position: number }>`
      select max_position from learning.lesson_progress where user_id = ${learner.id} and lesson_id = ${lessons[1]}`.execute(
      u.kit.app.platform.database.db,
    );
    expect(rows[0]?.max_position).toBe(600);
    expect(await u.learningEvents('learning.lesson.completed', learner.id)).toHaveLength(1);
  });

  it('credit the gap since the last report once when heartbeats of a started lesson race', async () => {
    const { learner, lessons } = await threeLessons(u);
    await u.reported(learner, lessons[1], { position: 10 }); // the row exists: heartbeats take the unlocked path
    u.clock.advance(30);
    const positions = Array.from({ length: 10 }, (_, i) => 20 + i * 10).sort(() => Math.random() - 0.5);
    const answers = await Promise.all(
      positions.map((position) => u.reported(learner, lessons[1], { position })),
    );
    expect(answers.every((a) => a.accepted && !a.completed)).toBe(true);
    const { rows } = await sql<{ max_position: number }>`
      select max_position from learning.lesson_progress where user_id = ${learner.id} and lesson_id = ${lessons[1]}`.execute(
      u.kit.app.platform.database.db,
    );
    expect(rows[0]?.max_position).toBe(110);
    // one report took the 30 s gap; the others came after it (no gap), never each the whole gap
    const time = await u.kit.expectStatus<{ data: { day: string; seconds: number }[] }>(
      200,
      'GET',
      '/api/v1/me/learning/time?days=7',
      { as: learner },
    );
    expect(time.data.map((d) => d.seconds)).toEqual([30]);
  });

  it('under the default interval, accept one of a burst and ignore the rest without going back', async () => {
    const { learner, lessons } = await threeLessons(t);
    const positions = Array.from({ length: 20 }, (_, i) => (i + 1) * 10).sort(() => Math.random() - 0.5);
    const answers = await Promise.all(
      positions.map((position) => t.reported(learner, lessons[2], { position })),
    );
    const accepted = answers.filter((a) => a.accepted);
    expect(accepted).toHaveLength(1);
    const kept = accepted[0]?.position;
    expect(answers.every((a) => a.position === kept)).toBe(true);
  });
});
