import { DEMO_INSTRUCTOR_EMAILS, type IdentityDirectory } from '../identity/index.js';
import type { InstructorDirectory } from './instructors.service.js';
import type { DemoInstructor } from './seed/demo.data.js';

/** The other modules' APIs the catalog asks (in-process, or over HTTP when split). */
export const CATALOG_REQUIRES = ['identity'] as const;

/** A new instructor's display name, from identity's user directory. */
export function instructorDirectoryFrom(identity: IdentityDirectory): InstructorDirectory {
  return { displayNameOf: async (id) => (await identity.getUser(id))?.displayName };
}

/** Identity's demo instructor accounts that exist, to own the first demo courses. */
export function demoInstructorsFrom(identity: IdentityDirectory): () => Promise<DemoInstructor[]> {
  return async () => {
    const users = await Promise.all(DEMO_INSTRUCTOR_EMAILS.map((email) => identity.findUserByEmail(email)));
    return users.flatMap((u) => (u ? [{ id: u.id, displayName: u.displayName }] : []));
  };
}
