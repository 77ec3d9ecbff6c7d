/**
 * The one place that says which role may do what in commerce. Routes ask `rolesFor(permission)`
 * and hand the answer to the platform guard; services ask `can(roles, …)`. Buying needs no
 * permission beyond a signed-in user: every account may buy.
 */
import { permissionMap, type Role } from '../../platform/permissions.js';

export const PERMISSIONS = {
  /** See and cancel anyone's orders, list them with filters, ask a provider about a payment. */
  'orders:manage-any': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export const { rolesFor, can } = permissionMap(PERMISSIONS);
