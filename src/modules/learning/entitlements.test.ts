import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LearningTest, startLearning } from './learning.test-support.js';

let t: LearningTest;
beforeAll(async () => {
  t = await startLearning();
}, 120_000);
afterAll(async () => {
  await t.kit.stop();
});

type Who = { token: string } | undefined;
const access = (lessonId: string, as?: Who) =>
  t.kit.request('GET', `/api/v1/lessons/${lessonId}/access`, { as });

async function grantsOf(userId: string) {
  const { rows } = await sql<{ course_id: string; source: string; source_id: string }>`
    select course_id, source, source_id from learning.grants where user_id = ${userId}`.execute(
    t.kit.app.platform.database.db,
  );
  return rows;
}

async function eventsFor(type: string, userId: string) {
  return (await t.kit.outbox('learning', type)).filter(
    (e) => (e.data as { userId: string }).userId === userId,
  );
}

describe('entitlements from commerce events', () => {
  it('buy gives access; a refund takes it away on the very next request', async () => {
    const course = await t.course();
    const buyer = await t.kit.caller('learner');
    const paidLesson = course.lessonIds[1] ?? '';

    const before = await access(paidLesson, buyer);
    expect(before.statusCode).toBe(403);
    expect(before.headers['content-type']).toContain('application/problem+json');
    expect(before.json()).toMatchObject({
      code: 'learning.purchase-required',
      courseId: course.id,
      price: { amount: 9900, currency: 'CNY' },
      onSale: true,
    });

    const { orderId } = await t.paid(buyer.id, [course.id]);
    await t.kit.settle();
    const after = await access(paidLesson, buyer);
    expect(after.statusCode, after.body).toBe(200);
    expect(after.json()).toMatchObject({ lessonId: paidLesson, courseId: course.id, access: 'entitled' });
    // warm: the answer now comes from the cache
    expect((await access(paidLesson, buyer)).statusCode).toBe(200);

    await t.refunded(buyer.id, orderId, [course.id]);
    await t.kit.settle();
    const refunded = await access(paidLesson, buyer);
    expect(refunded.statusCode).toBe(403);
    expect(refunded.json()).toMatchObject({ code: 'learning.purchase-required' });

    expect(await eventsFor('learning.entitlement.granted', buyer.id)).toHaveLength(1);
    const revoked = await eventsFor('learning.entitlement.revoked', buyer.id);
    expect(revoked).toHaveLength(1);
    expect(revoked[0]?.data).toMatchObject({ courseId: course.id, source: 'order', sourceId: orderId });
    expect(await t.learning.api.ownedCourseIds(buyer.id, [course.id])).toEqual([]);
  });

  it('applies a redelivered paid event (same event id) once', async () => {
    const course = await t.course();
    const buyer = await t.kit.caller('learner');
    const { eventId } = await t.paid(buyer.id, [course.id]);
    await t.kit.settle();
    await t.redeliver('commerce', eventId);
    await t.kit.settle();
    const { rows } = await sql<{ published: boolean }>`
      select published_at is not null as published from commerce.outbox where id = ${eventId}`.execute(
      t.kit.app.platform.database.db,
    );
    expect(rows[0]?.published).toBe(true);
    expect(await grantsOf(buyer.id)).toHaveLength(1);
    expect(await eventsFor('learning.entitlement.granted', buyer.id)).toHaveLength(1);
    expect(await t.learning.api.ownedCourseIds(buyer.id, [course.id, 'not-a-uuid'])).toEqual([course.id]);
  });

  it('leaves no access when the refund is applied before its paid event', async () => {
    const course = await t.course();
    const buyer = await t.kit.caller('learner');
    const orderId = crypto.randomUUID();
    await t.refunded(buyer.id, orderId, [course.id]);
    await t.kit.settle();
    await t.paid(buyer.id, [course.id], orderId);
    await t.kit.settle();
    expect((await access(course.lessonIds[1] ?? '', buyer)).statusCode).toBe(403);
    expect(await grantsOf(buyer.id)).toEqual([]);
    expect(await eventsFor('learning.entitlement.granted', buyer.id)).toEqual([]);
  });

  it('a refund of one order leaves another order and an admin grant in place', async () => {
    const course = await t.course();
    const other = await t.course();
    const buyer = await t.kit.caller('learner');
    const first = await t.paid(buyer.id, [course.id, other.id]);
    await t.paid(buyer.id, [course.id]);
    await t.kit.settle();
    await t.refunded(buyer.id, first.orderId, [course.id, other.id]);
    await t.kit.settle();
    expect((await access(course.lessonIds[1] ?? '', buyer)).statusCode).toBe(200);
    expect((await access(other.lessonIds[1] ?? '', buyer)).statusCode).toBe(403);
  });
});

describe('free enrolment and admin grants', () => {
  it('enrols in a free published course once, and refuses paid, unknown and draft courses', async () => {
    const free = await t.course({ price: 0 });
    const learner = await t.kit.caller('learner');
    expect((await access(free.lessonIds[1] ?? '', learner)).statusCode).toBe(403);
    expect(
      await t.kit.expectStatus(200, 'POST', `/api/v1/courses/${free.id}/enrol`, { as: learner }),
    ).toEqual({
      courseId: free.id,
      enrolled: true,
    });
    expect((await access(free.lessonIds[1] ?? '', learner)).statusCode).toBe(200);
    expect(
      await t.kit.expectStatus(200, 'POST', `/api/v1/courses/${free.id}/enrol`, { as: learner }),
    ).toEqual({
      courseId: free.id,
      enrolled: false,
    });
    expect(await grantsOf(learner.id)).toEqual([{ course_id: free.id, source: 'free', source_id: '' }]);

    const paid = await t.course();
    const refused = await t.kit.request('POST', `/api/v1/courses/${paid.id}/enrol`, { as: learner });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'learning.course-not-free' });
    const draft = await t.course({ price: 0, publish: false });
    expect(
      (await t.kit.request('POST', `/api/v1/courses/${draft.id}/enrol`, { as: learner })).statusCode,
    ).toBe(404);
    const unknown = crypto.randomUUID();
    expect(
      (await t.kit.request('POST', `/api/v1/courses/${unknown}/enrol`, { as: learner })).statusCode,
    ).toBe(404);
    expect((await t.kit.request('POST', `/api/v1/courses/${free.id}/enrol`)).statusCode).toBe(401);
    expect(await grantsOf(learner.id)).toHaveLength(1);
  });

  it('lets an admin grant and revoke with a reason, leaving a paid order in place', async () => {
    const course = await t.course();
    const learner = await t.kit.caller('learner');
    const lesson = course.lessonIds[1] ?? '';
    const body = { userId: learner.id, courseId: course.id, reason: 'support ticket 42' };

    const notAdmin = await t.kit.request('POST', '/api/v1/admin/entitlements', { as: learner, body });
    expect(notAdmin.statusCode).toBe(403);
    const blank = await t.kit.request('POST', '/api/v1/admin/entitlements', {
      as: t.admin,
      body: { ...body, reason: '   ' },
    });
    expect(blank.statusCode).toBe(400);
    expect(await grantsOf(learner.id)).toEqual([]);

    expect(
      await t.kit.expectStatus(200, 'POST', '/api/v1/admin/entitlements', { as: t.admin, body }),
    ).toEqual({
      userId: learner.id,
      courseId: course.id,
      granted: true,
    });
    expect((await access(lesson, learner)).statusCode).toBe(200);
    expect(
      await t.kit.expectStatus(200, 'POST', '/api/v1/admin/entitlements/revoke', { as: t.admin, body }),
    ).toEqual({ userId: learner.id, courseId: course.id, entitled: false });
    expect((await access(lesson, learner)).statusCode).toBe(403);
    const again = await t.kit.request('POST', '/api/v1/admin/entitlements/revoke', { as: t.admin, body });
    expect(again.statusCode).toBe(404);
    expect(again.json()).toMatchObject({ code: 'learning.entitlement-not-found' });

    await t.paid(learner.id, [course.id]);
    await t.kit.settle();
    await t.kit.expectStatus(200, 'POST', '/api/v1/admin/entitlements', { as: t.admin, body });
    expect(
      await t.kit.expectStatus(200, 'POST', '/api/v1/admin/entitlements/revoke', { as: t.admin, body }),
    ).toMatchObject({ entitled: true });
    expect((await access(lesson, learner)).statusCode).toBe(200);

    const unknownCourse = await t.kit.request('POST', '/api/v1/admin/entitlements', {
      as: t.admin,
      body: { ...body, courseId: crypto.randomUUID() },
    });
    expect(unknownCourse.statusCode).toBe(404);
  });
});

describe('content access', () => {
  it('opens paid lessons to the course’s instructors and admins, previews to everyone', async () => {
    const course = await t.course();
    const [preview, paid] = course.lessonIds as [string, string];
    expect((await access(paid, t.instructor)).json()).toMatchObject({ access: 'instructor' });
    expect((await access(paid, t.admin)).json()).toMatchObject({ access: 'admin' });
    const anonymous = await access(preview);
    expect(anonymous.statusCode).toBe(200);
    expect(anonymous.json<{ contentUrl: string }>()).toMatchObject({ access: 'preview' });
    const anonymousPaid = await access(paid);
    expect(anonymousPaid.statusCode).toBe(403);
    expect(anonymousPaid.json()).toMatchObject({ code: 'learning.purchase-required', courseId: course.id });
  });

  it('answers a warm check (from the process’s copies) exactly as the cold one before it', async () => {
    const course = await t.course();
    const [preview, paid] = course.lessonIds as [string, string];
    const buyer = await t.kit.caller('learner');
    await t.paid(buyer.id, [course.id]);
    await t.kit.settle();
    const cases: [string, { id: string; token: string } | undefined, string][] = [
      [preview, undefined, 'preview'],
      [paid, buyer, 'entitled'],
      [paid, t.instructor, 'instructor'],
      [paid, t.admin, 'admin'],
    ];
    for (const [lesson, as, via] of cases) {
      const cold = await access(lesson, as);
      const warm = await access(lesson, as);
      expect(cold.statusCode, via).toBe(200);
      expect(warm.body, via).toBe(cold.body);
      // a URL signed for this caller: no shared cache or browser keeps it
      expect(warm.headers['cache-control'], via).toBe('private, no-store');
      const body = warm.json<{ access: string; contentUrl: string }>();
      expect(body.access).toBe(via);
      // the query is what URLSearchParams writes for these values, as it was built before
      const query = new URL(body.contentUrl, 'http://x').searchParams;
      expect(query.get('u')).toBe(as?.id ?? '-');
      expect(body.contentUrl).toBe(
        `/api/v1/lessons/${lesson}/content?${new URLSearchParams(query).toString()}`,
      );
    }
    // refusals are not taken from the copies: the anonymous 403 and an unknown lesson's 404 stay
    for (let i = 0; i < 2; i++) {
      expect((await access(paid)).statusCode).toBe(403);
      expect((await access(crypto.randomUUID(), buyer)).statusCode).toBe(404);
    }
  });

  it('answers 404 for unknown lessons and lessons of unpublished courses', async () => {
    const draft = await t.course({ publish: false });
    for (const id of [crypto.randomUUID(), draft.lessonIds[0] ?? '']) {
      const response = await access(id, t.admin);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'learning.lesson-not-found' });
    }
    expect((await access('not-a-uuid', t.admin)).statusCode).toBe(400);
  });

  it('signs content URLs bound to the lesson and the user, which expire', async () => {
    const course = await t.course({
      lessons: [{ kind: 'document' }, { kind: 'document' }],
    });
    const [a, b] = course.lessonIds as [string, string];
    const buyer = await t.kit.caller('learner');
    await t.paid(buyer.id, [course.id]);
    await t.kit.settle();

    const { contentUrl, expiresAt } = await t.kit.expectStatus<{ contentUrl: string; expiresAt: string }>(
      200,
      'GET',
      `/api/v1/lessons/${a}/access`,
      { as: buyer },
    );
    expect(new Date(expiresAt).getTime() - t.clock().getTime()).toBe(300_000);
    const opened = await t.kit.request('GET', contentUrl);
    expect(opened.statusCode).toBe(303);
    const file = await t.kit.request('GET', opened.headers.location ?? '');
    expect(file.statusCode).toBe(200);
    expect(file.rawPayload.subarray(0, 4).toString()).toBe('%PDF');

    // the same signature does not open lesson B, nor another user's URL
    const other = await t.kit.request('GET', contentUrl.replace(a, b));
    expect(other.statusCode).toBe(403);
    expect(other.json()).toMatchObject({ code: 'learning.content-url-invalid' });
    const forged = await t.kit.request('GET', contentUrl.replace(`u=${buyer.id}`, `u=${t.admin.id}`));
    expect(forged.statusCode).toBe(403);

    t.clock.advance(301);
    const expired = await t.kit.request('GET', contentUrl);
    expect(expired.statusCode).toBe(410);
    expect(expired.json()).toMatchObject({ code: 'learning.content-url-expired' });
  });

  it('repeats a URL asked for again within seconds, and still refuses at once after a revocation', async () => {
    const course = await t.course();
    const paid = course.lessonIds[1] ?? '';
    const buyer = await t.kit.caller('learner');
    const body = { userId: buyer.id, courseId: course.id, reason: 'support case' };
    await t.kit.expectStatus(200, 'POST', '/api/v1/admin/entitlements', { as: t.admin, body });
    type Answer = { contentUrl: string; expiresAt: string };
    const first = await t.kit.expectStatus<Answer>(200, 'GET', `/api/v1/lessons/${paid}/access`, {
      as: buyer,
    });
    t.clock.advance(4);
    const again = await t.kit.expectStatus<Answer>(200, 'GET', `/api/v1/lessons/${paid}/access`, {
      as: buyer,
    });
    expect(again).toEqual(first);
    t.clock.advance(1);
    const fresh = await t.kit.expectStatus<Answer>(200, 'GET', `/api/v1/lessons/${paid}/access`, {
      as: buyer,
    });
    expect(new Date(fresh.expiresAt).getTime() - t.clock().getTime()).toBe(300_000);
    expect(fresh.contentUrl).not.toBe(first.contentUrl);

    // a URL was issued a moment ago; the revoked learner is refused all the same
    await t.kit.expectStatus(200, 'POST', '/api/v1/admin/entitlements/revoke', { as: t.admin, body });
    const refused = await access(paid, buyer);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'learning.purchase-required' });
  });

  it('refuses malformed content URLs with 4xx problem+json', async () => {
    const course = await t.course();
    const lesson = course.lessonIds[0] ?? '';
    for (const query of [
      '',
      '?u=x&exp=1&sig=',
      '?u=x&exp=99999999999999&sig=a',
      '?u=%00&exp=1&sig=%00',
      '?u=-&exp=-1&sig=a',
    ]) {
      const response = await t.kit.request('GET', `/api/v1/lessons/${lesson}/content${query}`);
      expect(response.statusCode, query).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, query).toBeLessThan(500);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
  });
});
