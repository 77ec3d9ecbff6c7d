import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../platform/http/pagination.js';
import { CertificateIssuedEvent } from '../learning/index.js';
import { type NotifyTest, startNotify } from './notify.test-support.js';

let t: NotifyTest;

beforeAll(async () => {
  t = await startNotify();
});
afterAll(async () => {
  await t.stop();
});

interface Page {
  data: {
    id: string;
    kind: string;
    title: string;
    read: boolean;
    readAt: string | null;
    data: Record<string, unknown>;
  }[];
  nextCursor: string | null;
}

async function certificates(userId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await t.emit(CertificateIssuedEvent, {
      certificateId: randomUUID(),
      userId,
      courseId: randomUUID(),
      courseTitle: `Course ${i}`,
      verificationId: `V-${i}`,
      issuedAt: new Date().toISOString(),
    });
  }
}

describe('the inbox', () => {
  it('lists my notifications newest first in keyset pages, counts and marks them read', async () => {
    const me = await t.caller('learner');
    const someoneElse = await t.caller('learner');
    await certificates(me.id, 5);
    await certificates(someoneElse.id, 1);

    const first = await t.expectStatus<Page>(200, 'GET', '/api/v1/me/notifications?limit=3', { as: me });
    expect(first.data).toHaveLength(3);
    expect(first.data.every((n) => n.kind === 'certificate_issued' && !n.read)).toBe(true);
    expect(first.data[0]?.title).toContain('Course 4');
    expect(first.nextCursor).not.toBeNull();
    const second = await t.expectStatus<Page>(
      200,
      'GET',
      `/api/v1/me/notifications?limit=3&cursor=${first.nextCursor ?? ''}`,
      { as: me },
    );
    expect(second.data.map((n) => n.title)).toEqual([
      'Your certificate for “Course 1”',
      'Your certificate for “Course 0”',
    ]);
    expect(second.nextCursor).toBeNull();

    expect(await t.expectStatus(200, 'GET', '/api/v1/me/notifications/unread-count', { as: me })).toEqual({
      unread: 5,
    });
    const target = first.data[1];
    if (!target) throw new Error('no notification');
    const read = await t.expectStatus<Page['data'][number]>(
      200,
      'POST',
      `/api/v1/me/notifications/${target.id}/read`,
      {
        as: me,
      },
    );
    expect(read.read).toBe(true);
    // marking again keeps the first read time
    const again = await t.expectStatus<Page['data'][number]>(
      200,
      'POST',
      `/api/v1/me/notifications/${target.id}/read`,
      {
        as: me,
      },
    );
    expect(again.readAt).toBe(read.readAt);
    expect(await t.expectStatus(200, 'GET', '/api/v1/me/notifications/unread-count', { as: me })).toEqual({
      unread: 4,
    });
    const unread = await t.expectStatus<Page>(200, 'GET', '/api/v1/me/notifications?unread=true', { as: me });
    expect(unread.data.map((n) => n.id)).not.toContain(target.id);

    expect(await t.expectStatus(200, 'POST', '/api/v1/me/notifications/read-all', { as: me })).toEqual({
      marked: 4,
    });
    expect(await t.expectStatus(200, 'GET', '/api/v1/me/notifications/unread-count', { as: me })).toEqual({
      unread: 0,
    });
    // the other person's inbox is untouched
    expect(
      await t.expectStatus(200, 'GET', '/api/v1/me/notifications/unread-count', { as: someoneElse }),
    ).toEqual({
      unread: 1,
    });

    await t.expectStatus(204, 'DELETE', `/api/v1/me/notifications/${target.id}`, { as: me });
    const after = await t.expectStatus<Page>(200, 'GET', '/api/v1/me/notifications', { as: me });
    expect(after.data).toHaveLength(4);
    await t.expectStatus(404, 'DELETE', `/api/v1/me/notifications/${target.id}`, { as: me });
  });

  it('answers 404 for someone else’s notification and changes nothing', async () => {
    const owner = await t.caller('learner');
    const intruder = await t.caller('learner');
    await certificates(owner.id, 1);
    const page = await t.expectStatus<Page>(200, 'GET', '/api/v1/me/notifications', { as: owner });
    const id = page.data[0]?.id ?? '';

    const read = await t.request('POST', `/api/v1/me/notifications/${id}/read`, { as: intruder });
    expect(read.statusCode).toBe(404);
    expect(read.headers['content-type']).toContain('application/problem+json');
    expect(read.json()).toMatchObject({ code: 'notify.notification-not-found' });
    const del = await t.request('DELETE', `/api/v1/me/notifications/${id}`, { as: intruder });
    expect(del.statusCode).toBe(404);

    const still = await t.expectStatus<Page>(200, 'GET', '/api/v1/me/notifications', { as: owner });
    expect(still.data).toHaveLength(1);
    expect(still.data[0]?.read).toBe(false);
  });

  it('refuses forged cursors, NUL bytes and bad ids with 4xx problem+json', async () => {
    const me = await t.caller('learner');
    const probes: [string, string][] = [
      ['GET', `/api/v1/me/notifications?cursor=${encodeCursor(['not-a-date', randomUUID()])}`],
      ['GET', `/api/v1/me/notifications?cursor=${encodeCursor(['2026-01-01T00:00:00.000Z', 'x'])}`],
      ['GET', `/api/v1/me/notifications?cursor=${encodeCursor(['2026-01-01T00:00:00.000Z'])}`],
      ['GET', '/api/v1/me/notifications?cursor=%00'],
      ['GET', '/api/v1/me/notifications?cursor=!!!'],
      ['GET', '/api/v1/me/notifications?limit=99999999999999999999'],
      ['POST', '/api/v1/me/notifications/not-a-uuid/read'],
      ['POST', '/api/v1/me/notifications/%00/read'],
      ['DELETE', '/api/v1/me/notifications/123'],
    ];
    for (const [method, url] of probes) {
      const res = await t.request(method as 'GET', url, { as: me });
      expect(res.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, `${method} ${url}`).toBeLessThan(500);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    const anonymous = await t.request('GET', '/api/v1/me/notifications');
    expect(anonymous.statusCode).toBe(401);
  });

  it('a client token has no inbox', async () => {
    const token = await t.app.tokens.client('some-service', ['internal']);
    const res = await t.request('GET', '/api/v1/me/notifications', { as: { token } });
    expect(res.statusCode).toBe(403);
  });
});
