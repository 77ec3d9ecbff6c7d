// The demo seed's people: the public demo accounts and the named demo learners that the other
// modules' demo data (community's discussions, commerce's sales and refund) refer to by id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagingTables } from '../../../platform/messaging/outbox.js';
import { DEMO_EMAIL_DOMAIN } from '../demo-domain.js';
import { type IdentityTestApp, startIdentityApp } from '../identity.test-support.js';
import { DEMO_ADMIN_ID, DEMO_LEARNER_IDS, DEMO_LEARNERS } from '../index.js';
import { DEMO_ACCOUNTS, DEMO_INSTRUCTOR_EMAILS } from './seed.js';

let t: IdentityTestApp;
let lines: string[] | undefined;

beforeAll(async () => {
  t = await startIdentityApp();
  lines = await t.identity.module.seed?.();
});
afterAll(async () => {
  await t.app.stop();
});

const userCount = async () =>
  (await t.identity.db.selectFrom('identity.users').select('id').execute()).length;

describe('identity demo seed', () => {
  it('creates the demo learners with their fixed ids and names, verified learners only', async () => {
    expect(new Set(DEMO_LEARNER_IDS).size).toBe(DEMO_LEARNERS.length);
    expect(DEMO_LEARNER_IDS).toEqual(DEMO_LEARNERS.map((l) => l.id));
    for (const learner of DEMO_LEARNERS) {
      const user = await t.identity.api.getUser(learner.id);
      expect(user, learner.displayName).toEqual({
        id: learner.id,
        email: learner.email,
        displayName: learner.displayName,
        roles: ['learner'],
        status: 'active',
        emailVerified: true,
      });
      expect(learner.email.endsWith(`@${DEMO_EMAIL_DOMAIN}`)).toBe(true);
      // never taken for one of the catalog's demo instructors
      expect(DEMO_INSTRUCTOR_EMAILS).not.toContain(learner.email);
    }
    expect(DEMO_INSTRUCTOR_EMAILS).toEqual([
      `instructor1@${DEMO_EMAIL_DOMAIN}`,
      `instructor2@${DEMO_EMAIL_DOMAIN}`,
    ]);

    // announced like any account, so other modules' copies (community's members) name them
    const registered = await messagingTables(t.identity.db, 'identity')
      .selectFrom('outbox')
      .select('aggregate_id')
      .where('type', '=', 'identity.user.registered')
      .execute();
    expect(registered.map((e) => e.aggregate_id)).toEqual(expect.arrayContaining([...DEMO_LEARNER_IDS]));
  });

  it('gives the demo admin its fixed id and keeps the demo accounts as they were', async () => {
    const admin = await t.identity.api.findUserByEmail(`admin@${DEMO_EMAIL_DOMAIN}`);
    expect(admin?.id).toBe(DEMO_ADMIN_ID);
    expect(admin?.roles).toEqual(['learner', 'admin']);
    for (const account of DEMO_ACCOUNTS) {
      expect(lines?.some((l) => l.includes(`${account.email} / ${account.password}`))).toBe(true);
      await t.login(account.email, account.password);
    }
    expect(await userCount()).toBe(DEMO_ACCOUNTS.length + DEMO_LEARNERS.length);
  });

  it('prints no demo learner and no password of theirs', () => {
    expect(lines?.some((l) => l.includes(`${DEMO_LEARNERS.length} demo learners`))).toBe(true);
    for (const learner of DEMO_LEARNERS) {
      expect(lines?.some((l) => l.includes(learner.email))).toBe(false);
    }
  });

  it('does nothing on a second run', async () => {
    const before = await userCount();
    expect(await t.identity.module.seed?.()).toBeUndefined();
    expect(await userCount()).toBe(before);
  });
});
