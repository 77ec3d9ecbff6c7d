import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagingTables } from '../../platform/messaging/outbox.js';
import { waitFor } from '../../platform/messaging/test-support.js';
import { exportPartKey, writeExportPart } from '../../platform/personal-data.js';
import { type IdentityTestApp, startIdentityApp } from './identity.test-support.js';

/** A platform of identity and one other module ("elsewhere"), whose part this test writes by hand. */
let t: IdentityTestApp;
beforeAll(async () => {
  t = await startIdentityApp({ dataExportParts: ['identity', 'elsewhere'] });
});
afterAll(async () => {
  await t.app.stop();
});

type Headers = Record<string, string>;
const post = (url: string, payload: object, headers: Headers) =>
  t.app.app.inject({ method: 'POST', url, payload, headers, remoteAddress: '10.41.0.1' });
const get = (url: string, headers: Headers) =>
  t.app.app.inject({ method: 'GET', url, headers, remoteAddress: '10.41.0.1' });

interface ExportView {
  id: string;
  status: 'preparing' | 'ready';
  requestedAt: string;
  expiresAt: string;
  parts: { module: string; ready: boolean }[];
}

async function signedIn(displayName = 'Export Tester') {
  const user = await t.createUser({ displayName });
  const tokens = await t.login(user.email, user.password);
  return { ...user, auth: t.bearer(tokens.accessToken) };
}

async function ask(user: { password: string; auth: Headers }): Promise<ExportView> {
  const res = await post('/api/v1/me/data-exports', { password: user.password }, user.auth);
  expect(res.statusCode, res.body).toBe(202);
  return res.json<ExportView>();
}

/** Publish identity's outbox until its own subscriber has written its part of `id`. */
async function identityPartWritten(id: string) {
  await waitFor(async () => {
    await t.app.relay.runOnce();
    return (await t.app.platform.storage.size(exportPartKey(id, 'identity'))) !== undefined;
  }, "identity's part");
}

const writeElsewhere = (id: string, sections: Record<string, unknown>) =>
  writeExportPart(t.app.platform.storage, {
    exportId: id,
    module: 'elsewhere',
    generatedAt: new Date(),
    sections,
  });

const exportRow = (id: string) =>
  t.identity.db.selectFrom('identity.data_exports').selectAll().where('id', '=', id).executeTakeFirst();

describe('a copy of my personal data', () => {
  it('is prepared by every module from one event and downloaded as one JSON document', async () => {
    const me = await signedIn('导出 测试');

    // the password is asked: a stolen access token alone does not get everything
    const wrong = await post('/api/v1/me/data-exports', { password: 'not-my-password-00' }, me.auth);
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toMatchObject({ code: 'identity.reauthentication-failed' });

    const asked = await ask(me);
    expect(asked).toMatchObject({
      status: 'preparing',
      parts: [
        { module: 'identity', ready: false },
        { module: 'elsewhere', ready: false },
      ],
    });
    expect(Date.parse(asked.expiresAt) - Date.parse(asked.requestedAt)).toBe(7 * 24 * 3600 * 1000);
    const events = await messagingTables(t.identity.db, 'identity')
      .selectFrom('outbox')
      .select(['type', 'data'])
      .where('type', '=', 'identity.data_export.requested')
      .where('aggregate_id', '=', me.id)
      .execute();
    expect(events).toEqual([
      {
        type: 'identity.data_export.requested',
        data: { exportId: asked.id, userId: me.id, requestedAt: asked.requestedAt },
      },
    ]);

    await identityPartWritten(asked.id);
    // one part of two: still preparing, and the download says what it waits for
    const half = await get(`/api/v1/me/data-exports/${asked.id}`, me.auth);
    expect(half.json()).toMatchObject({
      status: 'preparing',
      parts: [
        { module: 'identity', ready: true },
        { module: 'elsewhere', ready: false },
      ],
    });
    const early = await get(`/api/v1/me/data-exports/${asked.id}/download`, me.auth);
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ code: 'identity.data-export-not-ready' });
    expect(early.json<{ detail: string }>().detail).toContain('elsewhere');

    await writeElsewhere(asked.id, { things: [{ said: '你好 "quoted" \u2028' }] });
    expect((await get(`/api/v1/me/data-exports/${asked.id}`, me.auth)).json()).toMatchObject({
      status: 'ready',
    });
    const listed = await get('/api/v1/me/data-exports', me.auth);
    expect(listed.json<{ data: ExportView[] }>().data.map((e) => [e.id, e.status])).toEqual([
      [asked.id, 'ready'],
    ]);

    const download = await get(`/api/v1/me/data-exports/${asked.id}/download`, me.auth);
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(download.headers['content-disposition']).toBe(
      `attachment; filename="lectern-data-${asked.requestedAt.slice(0, 10)}.json"`,
    );
    expect(download.headers['cache-control']).toBe('no-store');
    const doc = JSON.parse(download.body) as {
      exportId: string;
      userId: string;
      parts: Record<string, { module: string; generatedAt: string; data: Record<string, unknown> }>;
    };
    expect(doc).toMatchObject({ exportId: asked.id, userId: me.id, requestedAt: asked.requestedAt });
    expect(Object.keys(doc.parts)).toEqual(['identity', 'elsewhere']);
    expect(doc.parts.elsewhere?.data).toEqual({ things: [{ said: '你好 "quoted" \u2028' }] });

    const own = doc.parts.identity?.data as {
      account: Record<string, unknown>;
      twoFactor: Record<string, unknown>;
      sessions: { ip: string; revokedAt: string | null }[];
      auditLog: { type: string; byOperator: boolean }[];
      dataExports: { id: string }[];
      instructorApplications: unknown[];
    };
    expect(own.account).toMatchObject({
      id: me.id,
      email: me.email,
      displayName: '导出 测试',
      roles: ['learner'],
      status: 'active',
    });
    expect(own.twoFactor).toEqual({ totpEnabled: false, totpEnabledAt: null, recoveryCodesUnused: 0 });
    expect(own.sessions).toHaveLength(1);
    expect(own.sessions[0]).toMatchObject({ ip: '127.0.0.1', revokedAt: null });
    expect(own.auditLog.map((e) => e.type)).toEqual(
      expect.arrayContaining(['login.succeeded', 'user.data_export_requested']),
    );
    expect(own.auditLog.every((e) => !e.byOperator)).toBe(true);
    expect(own.dataExports.map((e) => e.id)).toEqual([asked.id]);
    expect(own.instructorApplications).toEqual([]);
    // no secret of the account: no password hash, no token
    expect(download.body).not.toMatch(/argon2|password_?hash|token_?hash|secret/i);

    // the owner was told twice: when it was asked for (a security notice), and when it was ready
    const notice = await t.mailer.next(me.email, /copy of your Lectern data was requested/);
    expect(notice.text).toContain('/reset-password');
    let ready: { text: string } | undefined;
    await waitFor(() => {
      ready = t.mailer.sent.find((m) => m.to === me.email && /is ready/.test(m.subject));
      return ready !== undefined;
    }, 'the ready mail');
    expect(ready?.text).toContain(`until ${asked.expiresAt.slice(0, 16).replace('T', ' ')} UTC`);
    expect(ready?.text).toContain('导出 测试');
    // once: a later round (a retried job) finds it told
    await t.identity.dataExports.checkReady(asked.id, 3);
    expect(t.mailer.sent.filter((m) => m.to === me.email && /is ready/.test(m.subject))).toHaveLength(1);

    const downloaded = await t.identity.db
      .selectFrom('identity.audit_events')
      .select('details')
      .where('user_id', '=', me.id)
      .where('type', '=', 'user.data_export_downloaded')
      .execute();
    expect(downloaded).toEqual([{ details: { exportId: asked.id } }]);
  });

  it("is the owner's alone: another user's export, an unknown id and a malformed one change nothing", async () => {
    const owner = await signedIn();
    const other = await signedIn();
    const asked = await ask(owner);
    await identityPartWritten(asked.id);
    await writeElsewhere(asked.id, {});

    for (const url of [
      `/api/v1/me/data-exports/${asked.id}`,
      `/api/v1/me/data-exports/${asked.id}/download`,
    ]) {
      const res = await get(url, other.auth);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'identity.data-export-not-found' });
    }
    expect((await get('/api/v1/me/data-exports', other.auth)).json()).toEqual({ data: [] });
    expect((await get(`/api/v1/me/data-exports/${randomUUID()}`, owner.auth)).statusCode).toBe(404);
    for (const bad of ['not-a-uuid', `${asked.id}%00`, '%F0%9F%98%80']) {
      const res = await get(`/api/v1/me/data-exports/${bad}/download`, owner.auth);
      expect(res.statusCode, bad).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect((await get('/api/v1/me/data-exports', {})).statusCode).toBe(401);
    const noPassword = await post('/api/v1/me/data-exports', {}, owner.auth);
    expect(noPassword.statusCode).toBe(400);
  });

  it('is asked for once a day at most, even by two requests at once', async () => {
    const me = await signedIn();
    const answers = await Promise.all(
      [1, 2].map(() => post('/api/v1/me/data-exports', { password: me.password }, me.auth)),
    );
    expect(answers.map((r) => r.statusCode).sort()).toEqual([202, 429]);
    const refused = answers.find((r) => r.statusCode === 429);
    expect(refused?.json()).toMatchObject({ code: 'identity.data-export-too-soon' });
    const retryAfter = Number(refused?.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(24 * 3600 - 60);
    expect(retryAfter).toBeLessThanOrEqual(24 * 3600);
    const rows = await t.identity.db
      .selectFrom('identity.data_exports')
      .select('id')
      .where('user_id', '=', me.id)
      .execute();
    expect(rows).toHaveLength(1);

    t.clock.advance(24 * 3600 + 1);
    const again = await t.login(me.email, me.password);
    expect(
      (await post('/api/v1/me/data-exports', { password: me.password }, t.bearer(again.accessToken)))
        .statusCode,
    ).toBe(202);
  });

  it('expires after seven days: refused, then its parts deleted, then its row', async () => {
    const me = await signedIn();
    const asked = await ask(me);
    await identityPartWritten(asked.id);
    await writeElsewhere(asked.id, {});
    const storage = t.app.platform.storage;

    t.clock.advance(7 * 24 * 3600 + 1);
    const auth = t.bearer((await t.login(me.email, me.password)).accessToken);
    expect((await get(`/api/v1/me/data-exports/${asked.id}/download`, auth)).statusCode).toBe(404);
    expect((await get('/api/v1/me/data-exports', auth)).json()).toEqual({ data: [] });

    expect(await t.identity.dataExports.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await storage.size(exportPartKey(asked.id, 'identity'))).toBeUndefined();
    expect(await storage.size(exportPartKey(asked.id, 'elsewhere'))).toBeUndefined();
    // a part written late (a module behind on its events) is caught by a later run
    expect(await exportRow(asked.id)).toBeDefined();
    await writeElsewhere(asked.id, { late: true });
    t.clock.advance(24 * 3600);
    await t.identity.dataExports.purgeExpired();
    expect(await storage.size(exportPartKey(asked.id, 'elsewhere'))).toBeUndefined();
    expect(await exportRow(asked.id)).toBeUndefined();
  });

  it('purges every expired copy once, however many wait out their grace period in a batch', async () => {
    const storage = t.app.platform.storage;
    const old = await ask(await signedIn());
    t.clock.advance(2 * 24 * 3600);
    const recent: ExportView[] = [];
    for (let i = 0; i < 3; i++) {
      recent.push(await ask(await signedIn()));
      t.clock.advance(1);
    }
    for (const asked of [old, ...recent]) await writeElsewhere(asked.id, {});
    t.clock.advance(7 * 24 * 3600);
    // the first copy is past its row's grace period, the other three within it
    const expired = await t.identity.db
      .selectFrom('identity.data_exports')
      .select('id')
      .where('expires_at', '<=', t.clock())
      .execute();

    // batches of two: the old row and a recent one, then the two recent rows after it
    expect(await t.identity.dataExports.purgeExpired(2)).toBe(expired.length);
    for (const asked of [old, ...recent]) {
      expect(await storage.size(exportPartKey(asked.id, 'elsewhere'))).toBeUndefined();
    }
    expect(await exportRow(old.id)).toBeUndefined();
    for (const asked of recent) expect(await exportRow(asked.id)).toBeDefined();
  });

  it('goes with the account when it is closed', async () => {
    const me = await signedIn();
    const asked = await ask(me);
    await identityPartWritten(asked.id);
    expect((await post('/api/v1/me/close', { password: me.password }, me.auth)).statusCode).toBe(204);
    expect((await exportRow(asked.id))?.expires_at.getTime()).toBeLessThanOrEqual(t.clock().getTime());
    await t.identity.dataExports.purgeExpired();
    expect(await t.app.platform.storage.size(exportPartKey(asked.id, 'identity'))).toBeUndefined();
  });
});
