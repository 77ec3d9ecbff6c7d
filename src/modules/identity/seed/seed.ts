import type { Accounts } from '../accounts.service.js';
import { internalMeta, type IdentityDb } from '../context.js';
import type { OAuth } from '../oauth.service.js';
import { anyUserExists } from '../users.queries.js';
import { DEMO_ACCOUNTS, DEMO_CLIENT } from './demo.data.js';

export { DEMO_ACCOUNTS, DEMO_INSTRUCTOR_EMAILS } from './demo.data.js';

/**
 * Create the demo accounts and the demo partner client through the services, once: a no-op when
 * any user exists. Returns the lines to print (the credentials are public demo data).
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
  const partner = await oauth.registerClient(DEMO_CLIENT);
  return [
    ...DEMO_ACCOUNTS.map(
      (a) =>
        `identity: ${a.email} / ${a.password} (${a.roles.filter((r) => r !== 'learner').join(', ') || 'learner'})`,
    ),
    `identity: OAuth client ${partner.clientId} / ${partner.clientSecret ?? ''} (client_credentials, scope catalog:read)`,
  ];
}
