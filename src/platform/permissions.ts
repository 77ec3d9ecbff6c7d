/**
 * The roles an access token may carry (identity owns who has which) and the helpers every
 * module's `permissions.ts` builds on: a module lists which roles may do what, once, and routes
 * and services ask by permission instead of naming roles.
 */
export const ROLES = ['learner', 'instructor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

export interface PermissionMap<P extends string> {
  /** The roles that hold `permission`, for the platform guard (`auth.require({ roles })`). */
  rolesFor: (permission: P) => Role[];
  /** Whether any of these roles holds `permission` (services' own checks). */
  can: (roles: readonly string[], permission: P) => boolean;
}

export function permissionMap<const M extends Record<string, readonly Role[]>>(
  map: M,
): PermissionMap<Extract<keyof M, string>> {
  const table: Record<string, readonly Role[]> = map;
  // the key type guarantees an entry; `?? []` only satisfies the index signature
  const allowed = (permission: string): readonly Role[] => table[permission] ?? [];
  return {
    rolesFor: (permission) => [...allowed(permission)],
    can: (roles, permission) => roles.some((r) => (allowed(permission) as readonly string[]).includes(r)),
  };
}
