import { DEMO_EMAIL_DOMAIN } from '../demo-domain.js';
import type { Role } from '../permissions.js';

/**
 * Demo accounts; passwords are public on purpose (README, start-up output). Never seed production.
 * Their domain is reserved: nobody else can take these addresses (`demo-domain.ts`).
 */
export const DEMO_ACCOUNTS: {
  email: string;
  password: string;
  displayName: string;
  roles: Role[];
  headline?: string;
  bio?: string;
}[] = [
  {
    email: `admin@${DEMO_EMAIL_DOMAIN}`,
    password: 'orchid-lantern-7421',
    displayName: 'Demo Admin',
    roles: ['learner', 'admin'],
  },
  {
    email: `instructor1@${DEMO_EMAIL_DOMAIN}`,
    password: 'maple-compass-3958',
    displayName: '林薇 Lin Wei',
    roles: ['learner', 'instructor'],
    headline: 'Backend engineer; teaches PostgreSQL and system design',
    bio: 'Twelve years building payment systems. Courses on databases and distributed systems.',
  },
  {
    email: `instructor2@${DEMO_EMAIL_DOMAIN}`,
    password: 'cedar-beacon-6184',
    displayName: 'Marco Rossi',
    roles: ['learner', 'instructor'],
    headline: 'Product designer and illustrator',
    bio: 'Teaches interface design, drawing on the iPad and visual storytelling.',
  },
  {
    email: `learner@${DEMO_EMAIL_DOMAIN}`,
    password: 'willow-quartz-2736',
    displayName: 'Demo Learner',
    roles: ['learner'],
  },
];

/** The demo partner of the README: a client_credentials client that may read the catalog. */
export const DEMO_CLIENT = {
  name: 'Demo partner (client_credentials)',
  grantTypes: ['client_credentials' as const],
  scopes: ['catalog:read'],
  confidential: true,
  firstParty: false,
};

export const DEMO_INSTRUCTOR_EMAILS = DEMO_ACCOUNTS.filter((a) => a.roles.includes('instructor')).map(
  (a) => a.email,
);
