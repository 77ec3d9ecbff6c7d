// Operators' side: demo seed, roles and permissions, instructor applications, user
// administration, the audit log, key rotation from code, and the OpenAPI document.
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagingTables } from '../../platform/messaging/outbox.js';
import { type IdentityTestApp, startIdentityApp } from './identity.test-support.js';
import { PERMISSIONS } from './permissions.js';
import { DEMO_ACCOUNTS, DEMO_INSTRUCTOR_EMAILS, DEMO_LEARNERS } from './seed/seed.js';

type Page<T> = { data: T[]; nextCursor: string | null };

let t: IdentityTestApp;
let seedLines: string[] | undefined;
let adminAuth: { authorization: string };
let adminId: string;

beforeAll(async () => {
  t = await startIdentityApp();
  // the demo admin doubles as this file's operator
  seedLines = await t.identity.module.seed?.();
  const demoAdmin = DEMO_ACCOUNTS[0]!;
  const found = await t.identity.api.findUserByEmail(demoAdmin.email);
  if (!found) throw new Error('seed did not create the demo admin');
  adminId = found.id;
  adminAuth = t.bearer((await t.login(demoAdmin.email, demoAdmin.password)).accessToken);
});
afterAll(async () => {
  await t.app.stop();
});

const EXPECTED = [
  'POST /api/v1/auth/register',
  'POST /api/v1/auth/verify-email',
  'POST /api/v1/auth/verify-email/resend',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/login/mfa',
  'POST /api/v1/auth/refresh',
  'POST /api/v1/auth/logout',
  'POST /api/v1/auth/password-reset/request',
  'POST /api/v1/auth/password-reset/confirm',
  'GET /api/v1/auth/token-info',
  'GET /api/v1/me',
  'PATCH /api/v1/me',
  'POST /api/v1/me/password',
  'GET /api/v1/me/mfa',
  'POST /api/v1/me/mfa/totp/enroll',
  'POST /api/v1/me/mfa/totp/confirm',
  'POST /api/v1/me/mfa/totp/disable',
  'POST /api/v1/me/mfa/recovery-codes',
  'POST /api/v1/me/instructor-application',
  'GET /api/v1/me/instructor-application',
  'PUT /api/v1/me/instructor-profile',
  'GET /api/v1/admin/users',
  'GET /api/v1/admin/users/{id}',
  'POST /api/v1/admin/users/{id}/disable',
  'POST /api/v1/admin/users/{id}/enable',
  'PUT /api/v1/admin/users/{id}/roles',
  'GET /api/v1/admin/instructor-applications',
  'POST /api/v1/admin/instructor-applications/{id}/approve',
  'POST /api/v1/admin/instructor-applications/{id}/reject',
  'GET /api/v1/admin/audit',
  'POST /api/v1/admin/keys/rotate',
  'GET /api/v1/admin/clients',
  'POST /api/v1/admin/clients',
  'POST /oauth/token',
  'POST /oauth/revoke',
  'POST /oauth/introspect',
  'GET /.well-known/jwks.json',
  'GET /.well-known/oauth-authorization-server',
];

interface Media {
  schema?: object;
  example?: unknown;
  examples?: object;
}
interface Operation {
  summary?: string;
  tags?: string[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description?: string; content?: Record<string, Media> }>;
}

const hasExample = (media: Media | undefined) =>
  media?.example !== undefined || media?.examples !== undefined;

describe('seed and the public api', () => {
  it('creates the demo accounts once, prints them, and lets other modules find the instructors', async () => {
    const lines = seedLines;
    expect(lines).toBeDefined();
    for (const account of DEMO_ACCOUNTS) {
      expect(lines!.some((l) => l.includes(`${account.email} / ${account.password}`))).toBe(true);
      await t.login(account.email, account.password);
    }
    expect(lines!.some((l) => /OAuth client cl_\S+ \/ cs_\S+/.test(l))).toBe(true);
    expect(await t.identity.module.seed?.()).toBeUndefined();
    const users = await t.identity.db.selectFrom('identity.users').select('id').execute();
    expect(users).toHaveLength(DEMO_ACCOUNTS.length + DEMO_LEARNERS.length);

    const instructors = await Promise.all(
      DEMO_INSTRUCTOR_EMAILS.map((e) => t.identity.api.findUserByEmail(e.toUpperCase())),
    );
    expect(instructors.map((i) => i?.roles)).toEqual([
      ['learner', 'instructor'],
      ['learner', 'instructor'],
    ]);
    const byId = await t.identity.api.getUser(instructors[0]!.id);
    expect(byId).toEqual(instructors[0]);
    expect(byId).not.toHaveProperty('password_hash');
    expect(await t.identity.api.getUser('not-a-uuid')).toBeUndefined();
    expect(await t.identity.api.getUser('00000000-0000-4000-8000-000000000000')).toBeUndefined();

    const admin = await t.login('admin@demo.lectern.dev', DEMO_ACCOUNTS[0]!.password);
    const me = await t.app.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: t.bearer(admin.accessToken),
    });
    expect(me.json().roles).toEqual(['learner', 'admin']);

    const events = await messagingTables(t.identity.db, 'identity')
      .selectFrom('outbox')
      .select('type')
      .where('type', '=', 'identity.user.registered')
      .execute();
    expect(events).toHaveLength(DEMO_ACCOUNTS.length + DEMO_LEARNERS.length);
  });
});

const inject = (options: InjectOptions) => t.app.app.inject(options);
const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  inject({ method: 'POST', url, payload, headers, remoteAddress: '192.0.2.44' });
const get = (url: string, headers: Record<string, string> = {}) => inject({ method: 'GET', url, headers });

describe('roles and permissions', () => {
  it('keeps every permission in one map over the three roles', () => {
    const roles = new Set(Object.values(PERMISSIONS).flat());
    expect([...roles].sort()).toEqual(['admin', 'instructor', 'learner']);
  });

  it('an instructor-only route refuses anonymous callers (401) and learners (403)', async () => {
    const body = { headline: 'Teacher', bio: 'I teach.' };
    const anonymous = await inject({ method: 'PUT', url: '/api/v1/me/instructor-profile', payload: body });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().code).toBe('auth.required');

    const learner = await t.createUser();
    const asLearner = await inject({
      method: 'PUT',
      url: '/api/v1/me/instructor-profile',
      payload: body,
      headers: t.bearer((await t.login(learner.email, learner.password)).accessToken),
    });
    expect(asLearner.statusCode).toBe(403);
    expect(asLearner.json().code).toBe('auth.role-required');

    const instructor = await t.createUser({ roles: ['learner', 'instructor'] });
    const asInstructor = await inject({
      method: 'PUT',
      url: '/api/v1/me/instructor-profile',
      payload: body,
      headers: t.bearer((await t.login(instructor.email, instructor.password)).accessToken),
    });
    expect(asInstructor.statusCode).toBe(200);
    expect(asInstructor.json()).toMatchObject({ id: instructor.id, headline: 'Teacher', bio: 'I teach.' });
  });

  it('admin routes refuse learners and instructors', async () => {
    const instructor = await t.createUser({ roles: ['learner', 'instructor'] });
    const auth = t.bearer((await t.login(instructor.email, instructor.password)).accessToken);
    for (const url of [
      '/api/v1/admin/users',
      '/api/v1/admin/audit',
      '/api/v1/admin/instructor-applications',
      '/api/v1/admin/clients',
    ]) {
      expect((await get(url, auth)).statusCode).toBe(403);
      expect((await get(url)).statusCode).toBe(401);
    }
  });

  it('lets an admin replace roles (learner always kept), audited and announced', async () => {
    const user = await t.createUser();
    const res = await inject({
      method: 'PUT',
      url: `/api/v1/admin/users/${user.id}/roles`,
      payload: { roles: ['admin'] },
      headers: adminAuth,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().roles).toEqual(['admin', 'learner']);
    const selfDemote = await inject({
      method: 'PUT',
      url: `/api/v1/admin/users/${adminId}/roles`,
      payload: { roles: [] },
      headers: adminAuth,
    });
    expect(selfDemote.statusCode).toBe(409);
    const badRole = await inject({
      method: 'PUT',
      url: `/api/v1/admin/users/${user.id}/roles`,
      payload: { roles: ['root'] },
      headers: adminAuth,
    });
    expect(badRole.statusCode).toBe(400);
    const audit = await get(`/api/v1/admin/audit?userId=${user.id}&type=roles.changed`, adminAuth);
    expect(audit.json().data).toEqual([
      expect.objectContaining({ actorId: adminId, details: { from: ['learner'], to: ['admin', 'learner'] } }),
    ]);
  });
});

describe('instructor applications', () => {
  it('a learner applies; an admin approves; the learner becomes an instructor', async () => {
    const learner = await t.createUser();
    const auth = t.bearer((await t.login(learner.email, learner.password)).accessToken);
    const motivation = 'I have taught statistics at university for eight years.';
    const applied = await post('/api/v1/me/instructor-application', { motivation }, auth);
    expect(applied.statusCode).toBe(201);
    const application = applied.json<{ id: string; status: string }>();
    expect(application.status).toBe('pending');
    const twice = await post('/api/v1/me/instructor-application', { motivation }, auth);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('identity.application-pending');

    const pending = await get('/api/v1/admin/instructor-applications?status=pending', adminAuth);
    expect(pending.json<Page<{ id: string }>>().data.map((a) => a.id)).toContain(application.id);

    const approved = await post(
      `/api/v1/admin/instructor-applications/${application.id}/approve`,
      { note: 'Welcome' },
      adminAuth,
    );
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'approved', decisionNote: 'Welcome' });
    const again = await post(`/api/v1/admin/instructor-applications/${application.id}/reject`, {}, adminAuth);
    expect(again.statusCode).toBe(409);

    // new tokens carry the role
    const relogged = t.bearer((await t.login(learner.email, learner.password)).accessToken);
    const asInstructor = await inject({
      method: 'PUT',
      url: '/api/v1/me/instructor-profile',
      payload: { headline: 'Statistician', bio: 'Numbers.' },
      headers: relogged,
    });
    expect(asInstructor.statusCode).toBe(200);
    expect(asInstructor.json().roles).toEqual(['instructor', 'learner']);
    expect((await get('/api/v1/me/instructor-application', relogged)).json().status).toBe('approved');

    const events = await messagingTables(t.identity.db, 'identity')
      .selectFrom('outbox')
      .select(['type', 'data'])
      .where('type', '=', 'identity.instructor.approved')
      .execute();
    expect(events).toEqual([
      {
        type: 'identity.instructor.approved',
        data: {
          userId: learner.id,
          applicationId: application.id,
          approvedBy: adminId,
          displayName: 'Test User',
        },
      },
    ]);
  });

  it('a rejected learner stays a learner and may apply again', async () => {
    const learner = await t.createUser();
    const auth = t.bearer((await t.login(learner.email, learner.password)).accessToken);
    const motivation = 'Please let me teach origami to everyone.';
    const first = (await post('/api/v1/me/instructor-application', { motivation }, auth)).json();
    const rejected = await post(
      `/api/v1/admin/instructor-applications/${first.id}/reject`,
      { note: 'Not yet' },
      adminAuth,
    );
    expect(rejected.json().status).toBe('rejected');
    // the applicant is told (notify mails it), with the reviewer's note
    const events = await messagingTables(t.identity.db, 'identity')
      .selectFrom('outbox')
      .select(['type', 'data'])
      .where('type', '=', 'identity.instructor.rejected')
      .where('aggregate_id', '=', learner.id)
      .execute();
    expect(events).toEqual([
      {
        type: 'identity.instructor.rejected',
        data: { userId: learner.id, applicationId: first.id, rejectedBy: adminId, note: 'Not yet' },
      },
    ]);
    const user = await get(`/api/v1/admin/users/${learner.id}`, adminAuth);
    expect(user.json().roles).toEqual(['learner']);
    expect((await post('/api/v1/me/instructor-application', { motivation }, auth)).statusCode).toBe(201);
    expect(
      (
        await post(
          '/api/v1/admin/instructor-applications/00000000-0000-4000-8000-000000000000/approve',
          {},
          adminAuth,
        )
      ).statusCode,
    ).toBe(404);
  });
});

describe('user administration', () => {
  it('lists users newest first with keyset pagination, search and filters', async () => {
    const tag = `kp${Date.now()}`;
    const made = [];
    for (let i = 0; i < 5; i++)
      made.push(await t.createUser({ email: `${tag}-${i}@example.com`, displayName: `Paging ${i}` }));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/admin/users?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await get(url, adminAuth)).json<{ data: { id: string }[]; nextCursor: string | null }>();
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((u) => u.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(made.map((u) => u.id).reverse());

    const byName = await get('/api/v1/admin/users?q=Paging%203', adminAuth);
    expect(byName.json<Page<{ id: string }>>().data.map((u) => u.id)).toEqual([made[3]!.id]);
    // LIKE wildcards in the search are literal
    expect((await get('/api/v1/admin/users?q=%25', adminAuth)).json().data).toEqual([]);
    const admins = await get('/api/v1/admin/users?role=admin', adminAuth);
    const adminRows = admins.json<Page<{ roles: string[] }>>().data;
    expect(adminRows.length).toBeGreaterThan(0);
    expect(adminRows.every((u) => u.roles.includes('admin'))).toBe(true);
    expect((await get('/api/v1/admin/users?cursor=garbage', adminAuth)).json().code).toBe(
      'request.bad-cursor',
    );
  });

  it('disabling a user stops refresh at once, refuses their access token, and blocks login; enabling restores', async () => {
    const user = await t.createUser();
    const session = await t.login(user.email, user.password);
    const disabled = await post(`/api/v1/admin/users/${user.id}/disable`, { reason: 'fraud' }, adminAuth);
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toMatchObject({
      status: 'disabled',
      disabledReason: 'fraud',
      disabledAt: expect.any(String),
    });

    const refresh = await post('/api/v1/auth/refresh', { refreshToken: session.refreshToken });
    expect(refresh.statusCode).toBe(401);
    const me = await get('/api/v1/me', t.bearer(session.accessToken));
    expect(me.statusCode).toBe(401);
    expect(me.json().code).toBe('auth.token-revoked');
    const login = await post('/api/v1/auth/login', { email: user.email, password: user.password });
    expect(login.statusCode).toBe(403);
    expect(login.json().code).toBe('identity.account-disabled');

    const events = await messagingTables(t.identity.db, 'identity')
      .selectFrom('outbox')
      .select('data')
      .where('type', '=', 'identity.user.disabled')
      .where('aggregate_id', '=', user.id)
      .execute();
    expect(events).toEqual([{ data: { userId: user.id, disabledBy: adminId, reason: 'fraud' } }]);

    const enabled = await post(`/api/v1/admin/users/${user.id}/enable`, {}, adminAuth);
    expect(enabled.json().status).toBe('active');
    const back = await t.login(user.email, user.password);
    expect((await get('/api/v1/me', t.bearer(back.accessToken))).statusCode).toBe(200);
    // the sessions revoked by the disable stay revoked
    expect((await post('/api/v1/auth/refresh', { refreshToken: session.refreshToken })).statusCode).toBe(401);
  });

  it('refuses disabling oneself and unknown ids', async () => {
    expect((await post(`/api/v1/admin/users/${adminId}/disable`, {}, adminAuth)).statusCode).toBe(409);
    expect(
      (await post('/api/v1/admin/users/00000000-0000-4000-8000-000000000000/disable', {}, adminAuth))
        .statusCode,
    ).toBe(404);
    expect((await post('/api/v1/admin/users/not-a-uuid/disable', {}, adminAuth)).statusCode).toBe(400);
  });

  it('shows the audit log newest first, paginated, filtered by user, with IP and user agent', async () => {
    const user = await t.createUser();
    await inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: 'definitely-wrong-pw' },
      remoteAddress: '203.0.113.77',
      headers: { 'user-agent': 'AuditTest/1.0' },
    });
    await inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: user.password },
      remoteAddress: '203.0.113.77',
      headers: { 'user-agent': 'AuditTest/1.0' },
    });
    await post(`/api/v1/admin/users/${user.id}/disable`, {}, adminAuth);

    const first = await get(`/api/v1/admin/audit?userId=${user.id}&limit=2`, adminAuth);
    expect(first.statusCode).toBe(200);
    const page1 = first.json<{
      data: { type: string; ip: string; userAgent: string }[];
      nextCursor: string;
    }>();
    expect(page1.data.map((e) => e.type)).toEqual(['user.disabled', 'token_family.revoked']);
    const second = (
      await get(`/api/v1/admin/audit?userId=${user.id}&limit=2&cursor=${page1.nextCursor}`, adminAuth)
    ).json<Page<{ type: string }>>();
    expect(second.data.map((e) => e.type)).toEqual(['login.succeeded', 'login.failed']);
    expect(second.data[1]).toMatchObject({
      ip: '203.0.113.77',
      userAgent: 'AuditTest/1.0',
      details: { reason: 'wrong_password' },
    });
    expect(JSON.stringify(second)).not.toContain('definitely-wrong-pw');

    const bad = await get('/api/v1/admin/audit?type=made.up', adminAuth);
    expect(bad.statusCode).toBe(400);
  });
});

describe('OpenAPI document', () => {
  it('lists every identity endpoint with request and response schemas and examples', async () => {
    const doc = (await t.app.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, Operation>>;
    }>();
    const found = new Map<string, Operation>();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) found.set(`${method.toUpperCase()} ${path}`, op);
    }
    const missing = EXPECTED.filter((e) => !found.has(e));
    expect(missing).toEqual([]);

    const problems: string[] = [];
    for (const key of EXPECTED) {
      const op = found.get(key)!;
      if (!op.summary || !op.tags?.length) problems.push(`${key}: no summary or tags`);
      const success = Object.entries(op.responses).filter(([status]) => status.startsWith('2'));
      if (success.length === 0) problems.push(`${key}: no 2xx response`);
      const bodies = success.flatMap(([, r]) => Object.values(r.content ?? {}));
      // an empty body (204, RFC 7009's 200) is documented by a description without content;
      // "Default Response" is what the generator writes when a route declared no schema at all
      const noContent = success.every(([, r]) => !r.content && r.description !== 'Default Response');
      if (!noContent && !bodies.some((m) => m.schema)) problems.push(`${key}: no response schema`);
      if (!noContent && !bodies.some(hasExample)) problems.push(`${key}: no response example`);
      if (op.requestBody) {
        const media = Object.values(op.requestBody.content);
        if (!media.some((m) => m.schema)) problems.push(`${key}: no request schema`);
        if (!media.some(hasExample)) problems.push(`${key}: no request example`);
      }
      if (key.startsWith('POST /oauth/') && !op.requestBody?.content['application/x-www-form-urlencoded']) {
        problems.push(`${key}: not documented as form-encoded`);
      }
      if (key.includes('/admin/') || key.startsWith('GET /api/v1/me')) {
        if (!op.responses['401'] || !op.responses['403']) problems.push(`${key}: 401/403 not documented`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('signing keys from code (CLI)', () => {
  it('rotates keys from code (CLI) and publishes both keys until the old one retires', async () => {
    const before = (await t.identity.api.keys.keySet()).keys.map((k) => k.kid);
    const { kid } = await t.identity.api.rotateSigningKey();
    const after = (await t.identity.api.keys.keySet()).keys.map((k) => k.kid);
    expect(after).toEqual(expect.arrayContaining([...before, kid]));
    expect((await t.identity.keys.activeKey()).kid).toBe(kid);
  });

  it('prepublishes a key before it signs when asked to', async () => {
    const current = (await t.identity.keys.activeKey()).kid;
    const { kid } = await t.identity.api.rotateSigningKey({ prepublishSeconds: 60 });
    expect((await t.identity.api.keys.keySet()).keys.map((k) => k.kid)).toContain(kid);
    expect((await t.identity.keys.activeKey()).kid).toBe(current);
    t.clock.advance(61);
    t.identity.keys.invalidate();
    expect((await t.identity.keys.activeKey()).kid).toBe(kid);
  });
});

describe('cursor shapes', () => {
  const cursorOf = (values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');
  const uuid = '0f8b1b8e-3d5c-4a8f-9d1e-2b7c6a5d4e3f';
  // each list's keyset: (time, id), where the audit log's id is its bigint sequence
  const lists = [
    { path: '/api/v1/admin/users', id: uuid, wrongId: '1', pages: true },
    { path: '/api/v1/admin/instructor-applications', id: uuid, wrongId: '1', pages: false },
    { path: '/api/v1/admin/audit', id: '1', wrongId: uuid, pages: true },
  ];

  it('refuses cursor values the columns cannot hold with 400, and pages on with issued cursors', async () => {
    for (const { path, id, wrongId, pages } of lists) {
      for (const values of [
        ['0', id],
        ['2026', id],
        [1.5, id],
        [2147483648, id],
        [new Date().toISOString(), wrongId],
      ]) {
        const response = await get(`${path}?limit=1&cursor=${cursorOf(values)}`, adminAuth);
        expect(response.statusCode, `${path} ${JSON.stringify(values)}`).toBe(400);
        expect(response.json().code).toBe('request.bad-cursor');
      }
      const first = (await get(`${path}?limit=1`, adminAuth)).json<Page<unknown>>();
      if (pages) expect(first.nextCursor, path).toBeTruthy();
      if (first.nextCursor) {
        const next = await get(`${path}?limit=1&cursor=${first.nextCursor}`, adminAuth);
        expect(next.statusCode, path).toBe(200);
        expect(next.json<Page<unknown>>().data).toHaveLength(1);
      }
    }
  });
});
