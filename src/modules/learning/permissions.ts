/**
 * The one place that says which role may do what in learning. Routes and services ask a
 * permission, never a role name.
 */
import { permissionMap, type Role } from '../../platform/permissions.js';

export const PERMISSIONS = {
  /** Open any lesson's content without an entitlement. */
  'content:open-any': ['admin'],
  /** Grant and revoke entitlements by hand, with a reason. */
  'entitlements:manage': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export const { rolesFor, can } = permissionMap(PERMISSIONS);
