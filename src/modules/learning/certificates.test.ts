import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../platform/db/database.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import { waitFor } from '../../platform/messaging/test-support.js';
import { UserClosedEvent } from '../identity/index.js';
import { type LearningTest, startLearning } from './learning.test-support.js';

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
  verifyUrl: string;
}

describe('certificates', () => {
  it('are issued after completion, verify publicly, and download as a PDF for their owner only', async () => {
    const { course, learner, lessons } = await t.bought({
      title: 'Rust 入门',
      lessons: [{ durationSeconds: 60 }],
      name: '王小明',
    });
    const lessonId = lessons[0] ?? '';
    expect(await t.kit.expectStatus(200, 'GET', '/api/v1/me/certificates', { as: learner })).toEqual({
      data: [],
    });
    await t.reported(learner, lessonId, { position: 60 });

    let certificates: Certificate[] = [];
    await waitFor(async () => {
      ({ data: certificates } = await t.kit.expectStatus<{ data: Certificate[] }>(
        200,
        'GET',
        '/api/v1/me/certificates',
        { as: learner },
      ));
      return certificates.length === 1;
    }, 'the certificate job');
    const [certificate] = certificates as [Certificate];
    expect(certificate).toMatchObject({
      courseId: course.id,
      courseTitle: 'Rust 入门',
      learnerName: '王小明',
    });
    expect(certificate.verificationId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const verified = await t.kit.request('GET', certificate.verifyUrl);
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toMatchObject({
      valid: true,
      learnerName: '王小明',
      courseTitle: 'Rust 入门',
      verificationId: certificate.verificationId,
    });

    const forged = `${certificate.verificationId.slice(0, -1)}${certificate.verificationId.endsWith('A') ? 'B' : 'A'}`;
    for (const id of [forged, 'unknown', 'x'.repeat(64), crypto.randomUUID()]) {
      const response = await t.kit.request('GET', `/api/v1/certificates/verify/${id}`);
      expect(response.statusCode, id).toBe(404);
      expect(response.json()).toMatchObject({ code: 'learning.certificate-not-found' });
    }
    expect((await t.kit.request('GET', `/api/v1/certificates/verify/${'x'.repeat(65)}`)).statusCode).toBe(
      400,
    );
    expect((await t.kit.request('GET', '/api/v1/certificates/verify/a%00b')).statusCode).toBeLessThan(500);

    const pdf = await t.kit.request('GET', `/api/v1/me/certificates/${certificate.id}/pdf`, { as: learner });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toContain('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const someoneElse = await t.kit.request('GET', `/api/v1/me/certificates/${certificate.id}/pdf`, {
      as: t.admin,
    });
    expect(someoneElse.statusCode).toBe(404);

    // one certificate and one event, however often the course is "completed" again
    await t.reported(learner, lessonId, { position: 60, completed: true });
    const issued = await t.learningEvents('learning.certificate.issued', learner.id);
    expect(issued).toHaveLength(1);
    expect(issued[0]?.data).toMatchObject({
      certificateId: certificate.id,
      verificationId: certificate.verificationId,
    });

    // the learner closes the account: the certificate, which names them publicly, is withdrawn
    await inTransaction(t.kit.app.platform.database.db, (trx) =>
      enqueue(trx, 'identity', [
        UserClosedEvent.create(learner.id, { userId: learner.id, closedAt: new Date().toISOString() }),
      ]),
    );
    await t.kit.settle();
    expect((await t.kit.request('GET', certificate.verifyUrl)).statusCode).toBe(404);
    expect(await t.kit.expectStatus(200, 'GET', '/api/v1/me/certificates', { as: learner })).toEqual({
      data: [],
    });
  });
});
