/**
 * The one place that says which role may do what in analytics. Routes and services ask a
 * permission, never a role name. Sending behaviour events and reading one's own score and
 * recommendations need no role.
 */
import { permissionMap, type Role } from '../../platform/permissions.js';

export const PERMISSIONS = {
  /** Platform-wide reports, any user's activity score, the activity ranking, rebuilds. */
  'analytics:read-platform': ['admin'],
  /** Reports of the courses one teaches (admins read every course's). */
  'analytics:read-own-courses': ['instructor', 'admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export const { rolesFor, can } = permissionMap(PERMISSIONS);
