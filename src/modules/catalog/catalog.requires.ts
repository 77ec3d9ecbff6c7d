import { DEMO_INSTRUCTOR_EMAILS, type IdentityDirectory } from '../identity/index.js';
import type { InstructorDirectory } from './instructors.service.js';
import type { DemoInstructor } from './seed/demo.data.js';

/** The other modules' APIs the catalog asks (in-process, or over HTTP when split). */
export const CATALOG_REQUIRES = ['identity'] as const;

/** A new instructor's display name, from identity's user directory. */
export function instructorDirectoryFrom(identity: IdentityDirectory): InstructorDirectory {
  return { displayNameOf: async (id) => (await identity.getUser(id))?.displayName };
}

/**
 * Identity's demo instructor accounts that exist, to own the first demo courses (and so to count
 * as the demo catalog's for other modules' demo seeds). Only verified instructor accounts: identity's
 * seed provisions them verified, while anyone signing up with a demo address on a real platform
 * cannot verify it, and must not have their courses taken for demo sales.
 */
export function demoInstructorsFrom(identity: IdentityDirectory): () => Promise<DemoInstructor[]> {
  return async () => {
    const users = await Promise.all(DEMO_INSTRUCTOR_EMAILS.map((email) => identity.findUserByEmail(email)));
    return users.flatMap((u) =>
      u?.emailVerified && u.roles.includes('instructor') ? [{ id: u.id, displayName: u.displayName }] : [],
    );
  };
}
