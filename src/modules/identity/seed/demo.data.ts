import { DEMO_EMAIL_DOMAIN } from '../demo-domain.js';
import type { Role } from '../permissions.js';

/** The demo admin's id, fixed so that commerce's demo refund is recorded as made by this account. */
export const DEMO_ADMIN_ID = '00000000-0000-4000-8000-00000000d000';

/**
 * Demo accounts; passwords are public on purpose (README, start-up output). Never seed production.
 * Their domain is reserved: nobody else can take these addresses (`demo-domain.ts`).
 */
export const DEMO_ACCOUNTS: {
  /** Fixed where another module's demo data names the account (`DEMO_ADMIN_ID`); random otherwise. */
  id?: string;
  email: string;
  password: string;
  displayName: string;
  roles: Role[];
  headline?: string;
  bio?: string;
}[] = [
  {
    id: DEMO_ADMIN_ID,
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

interface DemoLearner {
  id: string;
  email: string;
  displayName: string;
}

/**
 * Demo learners with fixed ids: the people of the other modules' demo data (community's lesson
 * discussions, commerce's sales), so the demo shows their names and an admin can look them up.
 * Verified learners, never instructors (the catalog's demo instructors stay the two above). Nobody
 * signs in as them: the seed gives each a random password it never shows. `learner@` is not among
 * them, so the README's walkthrough starts from an account that owns nothing.
 */
export const DEMO_LEARNERS: readonly [DemoLearner, ...DemoLearner[]] = [
  {
    id: '00000000-0000-4000-8000-00000000d001',
    email: `wang.fang@${DEMO_EMAIL_DOMAIN}`,
    displayName: '王芳 Wang Fang',
  },
  {
    id: '00000000-0000-4000-8000-00000000d002',
    email: `sarah.chen@${DEMO_EMAIL_DOMAIN}`,
    displayName: 'Sarah Chen',
  },
  {
    id: '00000000-0000-4000-8000-00000000d003',
    email: `zhang.lei@${DEMO_EMAIL_DOMAIN}`,
    displayName: '张磊 Zhang Lei',
  },
  {
    id: '00000000-0000-4000-8000-00000000d004',
    email: `tom.becker@${DEMO_EMAIL_DOMAIN}`,
    displayName: 'Tom Becker',
  },
  {
    id: '00000000-0000-4000-8000-00000000d005',
    email: `li.na@${DEMO_EMAIL_DOMAIN}`,
    displayName: '李娜 Li Na',
  },
  {
    id: '00000000-0000-4000-8000-00000000d006',
    email: `aiko.tanaka@${DEMO_EMAIL_DOMAIN}`,
    displayName: 'Aiko Tanaka',
  },
  {
    id: '00000000-0000-4000-8000-00000000d007',
    email: `liu.yang@${DEMO_EMAIL_DOMAIN}`,
    displayName: '刘洋 Liu Yang',
  },
  {
    id: '00000000-0000-4000-8000-00000000d008',
    email: `priya.nair@${DEMO_EMAIL_DOMAIN}`,
    displayName: 'Priya Nair',
  },
];

const [firstLearner, ...otherLearners] = DEMO_LEARNERS;
/** The ids alone, in order (never empty): whom community's and commerce's demo data take turns with. */
export const DEMO_LEARNER_IDS: readonly [string, ...string[]] = [
  firstLearner.id,
  ...otherLearners.map((l) => l.id),
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
