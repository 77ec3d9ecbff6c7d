/**
 * The one place that says which role may do what. Routes ask `rolesFor(permission)` and hand the
 * answer to the platform guard; no route names a role itself.
 */
export const ROLES = ['learner', 'instructor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  'profile:own': ['learner', 'instructor', 'admin'],
  'instructor-application:submit': ['learner'],
  'instructor-profile:edit': ['instructor'],
  'users:read': ['admin'],
  'users:manage': ['admin'],
  'roles:manage': ['admin'],
  'instructor-applications:review': ['admin'],
  'audit:read': ['admin'],
  'keys:rotate': ['admin'],
  'clients:manage': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function rolesFor(permission: Permission): Role[] {
  return [...PERMISSIONS[permission]];
}

export function can(roles: readonly string[], permission: Permission): boolean {
  const allowed: readonly string[] = PERMISSIONS[permission];
  return roles.some((r) => allowed.includes(r));
}

export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);
