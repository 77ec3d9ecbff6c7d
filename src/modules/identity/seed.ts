import { inTransaction } from '../../platform/db/database.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { Clock, IdentityDb } from './context.js';
import {
  type UserRegistered,
  UserRegisteredEvent,
  type UserVerified,
  UserVerifiedEvent,
} from './identity.events.js';
import type { OAuth } from './oauth.service.js';
import { checkPasswordPolicy, hashPassword } from './passwords.js';
import type { Role } from './permissions.js';

/** Demo accounts; passwords are public on purpose (README, start-up output). Never seed production. */
export const DEMO_ACCOUNTS: {
  email: string;
  password: string;
  displayName: string;
  roles: Role[];
  headline?: string;
  bio?: string;
}[] = [
  {
    email: 'admin@demo.lectern.dev',
    password: 'orchid-lantern-7421',
    displayName: 'Demo Admin',
    roles: ['learner', 'admin'],
  },
  {
    email: 'instructor1@demo.lectern.dev',
    password: 'maple-compass-3958',
    displayName: '林薇 Lin Wei',
    roles: ['learner', 'instructor'],
    headline: 'Backend engineer; teaches PostgreSQL and system design',
    bio: 'Twelve years building payment systems. Courses on databases and distributed systems.',
  },
  {
    email: 'instructor2@demo.lectern.dev',
    password: 'cedar-beacon-6184',
    displayName: 'Marco Rossi',
    roles: ['learner', 'instructor'],
    headline: 'Product designer and illustrator',
    bio: 'Teaches interface design, drawing on the iPad and visual storytelling.',
  },
  {
    email: 'learner@demo.lectern.dev',
    password: 'willow-quartz-2736',
    displayName: 'Demo Learner',
    roles: ['learner'],
  },
];

export const DEMO_INSTRUCTOR_EMAILS = DEMO_ACCOUNTS.filter((a) => a.roles.includes('instructor')).map(
  (a) => a.email,
);

/** Create the demo accounts and a demo partner client once; a no-op when any user exists. */
export async function seedIdentity(deps: {
  db: IdentityDb;
  oauth: OAuth;
  clock: Clock;
}): Promise<string[] | undefined> {
  const { db, oauth, clock } = deps;
  const any = await db.selectFrom('identity.users').select('id').limit(1).executeTakeFirst();
  if (any) return undefined;
  const hashed = await Promise.all(
    DEMO_ACCOUNTS.map(async (a) => {
      checkPasswordPolicy(a.password, { email: a.email, field: '/seed/password' });
      return { ...a, hash: await hashPassword(a.password) };
    }),
  );
  await inTransaction(db, async (trx) => {
    for (const a of hashed) {
      const user = await trx
        .insertInto('identity.users')
        .values({
          email: a.email,
          display_name: a.displayName,
          password_hash: a.hash,
          roles: a.roles,
          email_verified_at: clock(),
          headline: a.headline ?? null,
          bio: a.bio ?? null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const registered: UserRegistered = { userId: user.id, email: a.email, displayName: a.displayName };
      const verified: UserVerified = { userId: user.id, email: a.email };
      await enqueue(trx, 'identity', [
        UserRegisteredEvent.create(user.id, registered),
        UserVerifiedEvent.create(user.id, verified),
      ]);
    }
  });
  const partner = await oauth.registerClient({
    name: 'Demo partner (client_credentials)',
    grantTypes: ['client_credentials'],
    scopes: ['catalog:read'],
    confidential: true,
    firstParty: false,
  });
  return [
    ...DEMO_ACCOUNTS.map(
      (a) =>
        `identity: ${a.email} / ${a.password} (${a.roles.filter((r) => r !== 'learner').join(', ') || 'learner'})`,
    ),
    `identity: OAuth client ${partner.clientId} / ${partner.clientSecret ?? ''} (client_credentials, scope catalog:read)`,
  ];
}
