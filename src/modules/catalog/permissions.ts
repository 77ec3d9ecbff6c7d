/**
 * The one place that says which role may do what in the catalog. Routes ask
 * `rolesFor(permission)` and hand the answer to the platform guard; services ask `can(roles, …)`.
 * No route or service names a role itself. Role names are the token's roles, which identity owns.
 */
export const ROLES = ['learner', 'instructor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  /** Create courses and change their own: drafts, outline, files, submit, withdraw, archive. */
  'courses:author': ['instructor', 'admin'],
  /** Change any course, whoever owns it, and see drafts that are not theirs. */
  'courses:edit-any': ['admin'],
  /** Approve or reject courses in review, and see the review queue. */
  'courses:review': ['admin'],
  /** Create, rename, move and delete categories. */
  'categories:manage': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function rolesFor(permission: Permission): Role[] {
  return [...PERMISSIONS[permission]];
}

export function can(roles: readonly string[], permission: Permission): boolean {
  const allowed: readonly string[] = PERMISSIONS[permission];
  return roles.some((r) => allowed.includes(r));
}
