/**
 * The one place that says which role may do what in community. Routes and services ask a
 * permission, never a role name. Writing reviews and comments needs no role: it needs the course.
 */
import { permissionMap, type Role } from '../../platform/permissions.js';

export const PERMISSIONS = {
  /** See the moderation queue and audit trail; approve, hide and delete any review or comment. */
  'community:moderate': ['admin'],
  /** Read every lesson's discussion without owning the course. */
  'community:read-any': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export const { rolesFor, can } = permissionMap(PERMISSIONS);
