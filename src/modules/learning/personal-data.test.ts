import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPartOf, keysOf, readSections } from '../../../test/helpers/personal-data.js';
import type { Caller } from '../../../test/helpers/kit.js';
import { inTransaction } from '../../platform/db/database.js';
import { waitFor } from '../../platform/messaging/test-support.js';
import { type LearningTest, startLearning } from './learning.test-support.js';
import { learningExportSections } from './personal-data.queries.js';
import type { LearningTables } from './tables.js';

// the kit of learning's tests already runs a module named 'identity' (its outbox), so the
// export's event is published through it without `identityOutbox()`
let t: LearningTest;
beforeAll(async () => {
  t = await startLearning();
}, 120_000);
afterAll(async () => {
  await t.kit.stop();
});

interface Certificate {
  id: string;
  courseId: string;
  courseTitle: string;
  learnerName: string;
  verificationId: string;
}

const iso = (d: Date) => d.toISOString();

async function certificatesOf(learner: Caller): Promise<Certificate[]> {
  let certificates: Certificate[] = [];
  await waitFor(async () => {
    ({ data: certificates } = await t.kit.expectStatus<{ data: Certificate[] }>(
      200,
      'GET',
      '/api/v1/me/certificates',
      { as: learner },
    ));
    return certificates.length > 0;
  }, 'the certificate job');
  return certificates;
}

/** Every key of a JSON value, at any depth. */
describe("learning's part of a personal-data export", () => {
  it("holds the user's grants, their history, progress, learning time and certificate, and nothing of another user", async () => {
    const [a, b] = [await t.kit.caller('learner'), await t.kit.caller('learner')];
    t.names.set(a.id, 'Ada 王');
    t.names.set(b.id, 'Bob 李');
    const bought = await t.course({
      title: 'Bought course',
      lessons: [{ freePreview: true, durationSeconds: 60 }, { durationSeconds: 600 }],
    });
    const finished = await t.course({ title: 'Finished course', lessons: [{ durationSeconds: 60 }] });
    const free = await t.course({ price: 0 });
    const given = await t.course();
    const refunded = await t.course();
    const [watched, finishedLesson] = [bought.lessonIds[1] ?? '', finished.lessonIds[0] ?? ''];

    const paidAt = t.clock();
    const { orderId: orderA } = await t.paid(a.id, [bought.id, finished.id]);
    const { orderId: refundedOrder } = await t.paid(a.id, [refunded.id]);
    const { orderId: orderB } = await t.paid(b.id, [bought.id, finished.id]);
    await t.kit.settle();
    t.clock.advance(60);
    await t.refunded(a.id, refundedOrder, [refunded.id]);
    await t.kit.settle();
    t.clock.advance(60);
    const enrolledAt = t.clock();
    await t.kit.expectStatus(200, 'POST', `/api/v1/courses/${free.id}/enrol`, { as: a });
    const adminReasonA = 'granted for support ticket 7';
    await t.kit.expectStatus(200, 'POST', '/api/v1/admin/entitlements', {
      as: t.admin,
      body: { userId: a.id, courseId: given.id, reason: adminReasonA },
    });
    await t.kit.expectStatus(200, 'POST', '/api/v1/admin/entitlements', {
      as: t.admin,
      body: { userId: b.id, courseId: given.id, reason: 'only about Bob' },
    });

    // A watches a lesson for 30 s and finishes the other course; B does the same with other values
    t.clock.advance(60);
    const startedAt = t.clock();
    await t.reported(a, watched, { position: 10 });
    await t.reported(b, watched, { position: 300 });
    t.clock.advance(30);
    const watchedAt = t.clock();
    await t.reported(a, watched, { position: 40 });
    await t.reported(b, watched, { position: 320 });
    const finishedAt = t.clock();
    await t.reported(a, finishedLesson, { position: 60 });
    await t.reported(b, finishedLesson, { position: 60 });
    const [certificateA] = (await certificatesOf(a)) as [Certificate];
    const [certificateB] = (await certificatesOf(b)) as [Certificate];
    await t.kit.settle();

    const part = await exportPartOf(t.kit, a.id, 'learning');
    expect(part.module).toBe('learning');
    expect(part.generatedAt).toBe(iso(t.clock()));
    const data = part.data;

    const byCourse = <T extends { courseId: string }>(rows: T[]) =>
      [...rows].sort((x, y) => x.courseId.localeCompare(y.courseId));
    expect(data.entitlements).toEqual(
      byCourse([
        { courseId: bought.id, source: 'order', orderId: orderA, grantedAt: iso(paidAt) },
        { courseId: finished.id, source: 'order', orderId: orderA, grantedAt: iso(paidAt) },
        { courseId: free.id, source: 'free', orderId: null, grantedAt: iso(enrolledAt) },
        { courseId: given.id, source: 'admin', orderId: null, grantedAt: iso(enrolledAt) },
      ]),
    );
    // the refunded course's grant is gone: commerce's part holds the refund
    expect(data.lessonProgress).toEqual(
      [
        {
          lessonId: watched,
          courseId: bought.id,
          furthestPosition: 40,
          resumePosition: 40,
          lastReportedAt: iso(watchedAt),
          clientReportedAt: null,
          completedAt: null,
        },
        {
          lessonId: finishedLesson,
          courseId: finished.id,
          furthestPosition: 60,
          resumePosition: 60,
          lastReportedAt: iso(finishedAt),
          clientReportedAt: null,
          completedAt: iso(finishedAt),
        },
      ].sort((x, y) => x.lessonId.localeCompare(y.lessonId)),
    );
    expect(data.courseProgress).toEqual(
      byCourse([
        {
          courseId: bought.id,
          completedLessons: 0,
          lastLessonId: watched,
          resumePosition: 40,
          lastActivityAt: iso(watchedAt),
          completedAt: null,
        },
        {
          courseId: finished.id,
          completedLessons: 1,
          lastLessonId: finishedLesson,
          resumePosition: 60,
          lastActivityAt: iso(finishedAt),
          completedAt: iso(finishedAt),
        },
        // a grant makes the course's row; a refund leaves it (progress stays under the user's id)
        ...[free.id, given.id].map((courseId) => ({
          courseId,
          completedLessons: 0,
          lastLessonId: null,
          resumePosition: 0,
          lastActivityAt: iso(enrolledAt),
          completedAt: null,
        })),
        {
          courseId: refunded.id,
          completedLessons: 0,
          lastLessonId: null,
          resumePosition: 0,
          lastActivityAt: iso(paidAt),
          completedAt: null,
        },
      ]),
    );
    expect(startedAt.toISOString().slice(0, 10)).toBe('2026-03-01');
    expect(data.learningTime).toEqual([{ day: '2026-03-01', seconds: 30 }]);
    expect(data.certificates).toEqual([
      {
        id: certificateA.id,
        courseId: finished.id,
        courseTitle: 'Finished course',
        learnerName: 'Ada 王',
        verificationId: certificateA.verificationId,
        issuedAt: expect.any(String) as unknown,
      },
    ]);

    // nothing of B: ids, order, certificate, name, and the text an admin wrote about B
    const text = JSON.stringify(part);
    for (const of of [
      b.id,
      orderB,
      certificateB.id,
      certificateB.verificationId,
      'Bob 李',
      'only about Bob',
      t.admin.id,
    ]) {
      expect(text).not.toContain(of);
    }
    // an administrator's free text is left out, even about A (it may name other people)
    expect(text).not.toContain(adminReasonA);
    // no secret under any name
    for (const key of keysOf(part)) {
      expect(key).not.toMatch(
        /password|hash|token|secret|signature|sig$|key|credential|cipher|sealed|reason/i,
      );
    }
    expect(text).not.toMatch(/[?&]sig=/);

    // pages of one row give the same sections: every keyset cursor is followed to the end
    const paged = await inTransaction(t.kit.app.platform.database.db, (trx) =>
      readSections(learningExportSections(trx.withTables<LearningTables>(), a.id, 1)),
    );
    expect(paged).toEqual(data);
  });

  it('a user learning holds nothing about gets a part with empty sections', async () => {
    const nobody = await t.kit.caller('learner');
    const part = await exportPartOf(t.kit, nobody.id, 'learning');
    expect(part).toEqual({
      module: 'learning',
      generatedAt: iso(t.clock()),
      data: {
        entitlements: [],
        courseProgress: [],
        lessonProgress: [],
        learningTime: [],
        certificates: [],
      },
    });
  });
});
