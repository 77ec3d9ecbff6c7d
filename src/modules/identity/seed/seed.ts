import { randomBytes } from 'node:crypto';
import type { Accounts } from '../accounts.service.js';
import { internalMeta, type IdentityDb } from '../context.js';
import type { OAuth } from '../oauth.service.js';
import { anyUserExists } from '../users.queries.js';
import { DEMO_ACCOUNTS, DEMO_CLIENT, DEMO_LEARNERS } from './demo.data.js';

export { DEMO_ACCOUNTS, DEMO_INSTRUCTOR_EMAILS, DEMO_LEARNERS } from './demo.data.js';

/**
 * Create the demo accounts, the demo learners and the demo partner client through the services,
 * once: a no-op when any user exists. Returns the lines to print (the demo accounts' credentials
 * are public demo data; the demo learners' random passwords are printed nowhere).
 */
export async function seedIdentity(deps: {
  db: IdentityDb;
  accounts: Accounts;
  oauth: OAuth;
}): Promise<string[] | undefined> {
  const { db, accounts, oauth } = deps;
  if (await anyUserExists(db)) return undefined;
  for (const a of DEMO_ACCOUNTS) {
    const user = await accounts.provisionDemo(a, internalMeta);
    if (a.headline !== undefined && a.bio !== undefined) {
      await accounts.setInstructorProfile(user.id, { headline: a.headline, bio: a.bio });
    }
  }
  for (const l of DEMO_LEARNERS) {
    // nobody signs in as them; a password nobody knows (192 bits) only satisfies the account's shape
    const password = randomBytes(24).toString('base64url');
    await accounts.provisionDemo({ ...l, password, roles: ['learner'] }, internalMeta);
  }
  const partner = await oauth.registerClient(DEMO_CLIENT);
  return [
    ...DEMO_ACCOUNTS.map(
      (a) =>
        `identity: ${a.email} / ${a.password} (${a.roles.filter((r) => r !== 'learner').join(', ') || 'learner'})`,
    ),
    `identity: ${DEMO_LEARNERS.length} demo learners of the demo discussions and sales (no sign-in: their passwords are random and not shown)`,
    `identity: OAuth client ${partner.clientId} / ${partner.clientSecret ?? ''} (client_credentials, scope catalog:read)`,
  ];
}
