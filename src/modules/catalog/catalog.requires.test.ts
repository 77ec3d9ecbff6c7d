import { describe, expect, it } from 'vitest';
import { DEMO_INSTRUCTOR_EMAILS, type IdentityDirectory, type UserSummary } from '../identity/index.js';
import { demoInstructorsFrom } from './catalog.requires.js';

/** A directory of these users by email (the function reads nothing else of identity). */
const directory = (users: UserSummary[]): IdentityDirectory => ({
  getUser: (id) => Promise.resolve(users.find((u) => u.id === id)),
  findUserByEmail: (email) => Promise.resolve(users.find((u) => u.email === email)),
});

const account = (n: number, over: Partial<UserSummary> = {}): UserSummary => ({
  id: `user-${n}`,
  email: DEMO_INSTRUCTOR_EMAILS[n] ?? '',
  displayName: `Instructor ${n}`,
  roles: ['learner', 'instructor'],
  status: 'active',
  emailVerified: true,
  ...over,
});

describe('demoInstructorsFrom', () => {
  it("takes identity's verified demo instructors only", async () => {
    expect(DEMO_INSTRUCTOR_EMAILS.length).toBeGreaterThanOrEqual(2);
    expect(await demoInstructorsFrom(directory([account(0), account(1)]))()).toEqual([
      { id: 'user-0', displayName: 'Instructor 0' },
      { id: 'user-1', displayName: 'Instructor 1' },
    ]);
    // someone who signed up with a demo address on a real platform cannot verify it
    expect(
      await demoInstructorsFrom(directory([account(0, { emailVerified: false }), account(1)]))(),
    ).toEqual([{ id: 'user-1', displayName: 'Instructor 1' }]);
    expect(await demoInstructorsFrom(directory([account(0, { roles: ['learner'] })]))()).toEqual([]);
    expect(await demoInstructorsFrom(directory([]))()).toEqual([]);
  });
});
