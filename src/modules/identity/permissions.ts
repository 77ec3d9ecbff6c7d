/**
 * The one place that says which role may do what. Routes ask `rolesFor(permission)` and hand the
 * answer to the platform guard; no route names a role itself.
 */
import { permissionMap, type Role } from '../../platform/permissions.js';

export { isRole, type Role, ROLES } from '../../platform/permissions.js';

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

export const { rolesFor, can } = permissionMap(PERMISSIONS);
