/**
 * The one place that says which role may do what in the catalog. Routes ask
 * `rolesFor(permission)` and hand the answer to the platform guard; services ask `can(roles, …)`.
 * No route or service names a role itself. Role names are the token's roles, which identity owns.
 */
import { permissionMap, type Role } from '../../platform/permissions.js';

export { isRole, type Role, ROLES } from '../../platform/permissions.js';

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

export const { rolesFor, can } = permissionMap(PERMISSIONS);
