import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { waitFor } from '../../platform/messaging/test-support.js';
import { type LearningTest, startLearning } from './learning.test-support.js';

// The embedded default: PGlite's single connection, in-memory cache, in-process bus, pg-boss on
// PGlite. The path that crosses every part (subscriber, cache, progress transaction, job) once.
let t: LearningTest;
beforeAll(async () => {
  vi.stubEnv('DATABASE_URL', '');
  vi.stubEnv('REDIS_URL', '');
  vi.stubEnv('NATS_URL', '');
  t = await startLearning();
}, 120_000);
afterAll(async () => {
  await t.kit.stop();
  vi.unstubAllEnvs();
});

describe('learning on PGlite', () => {
  it('buys, opens, completes, certifies and refunds', async () => {
    expect(t.kit.app.platform.database.kind).toBe('pglite');
    const course = await t.course({ lessons: [{ durationSeconds: 120 }] });
    const lesson = course.lessonIds[0] ?? '';
    const learner = await t.kit.caller('learner');
    t.names.set(learner.id, 'Ada');
    const { orderId } = await t.paid(learner.id, [course.id]);
    await t.kit.settle();
    expect((await t.kit.request('GET', `/api/v1/lessons/${lesson}/access`, { as: learner })).statusCode).toBe(
      200,
    );
    await t.kit.expectStatus(200, 'PUT', `/api/v1/lessons/${lesson}/progress`, {
      as: learner,
      body: { position: 120 },
    });
    await waitFor(async () => {
      const { data } = await t.kit.expectStatus<{ data: unknown[] }>(200, 'GET', '/api/v1/me/certificates', {
        as: learner,
      });
      return data.length === 1;
    }, 'the certificate on PGlite');
    await t.refunded(learner.id, orderId, [course.id]);
    await t.kit.settle();
    expect((await t.kit.request('GET', `/api/v1/lessons/${lesson}/access`, { as: learner })).statusCode).toBe(
      403,
    );
  });
});
