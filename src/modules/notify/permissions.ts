/**
 * Which role may do what in notify. Everyone signed in has an inbox and preferences; the rest
 * is the operators'.
 */
import { permissionMap, type Role } from '../../platform/permissions.js';

export const PERMISSIONS = {
  /** Preview templates, see failed deliveries and send them again. */
  'notify:operate': ['admin'],
  /** Send an announcement to all users or a segment. */
  'notify:broadcast': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export const { rolesFor, can } = permissionMap(PERMISSIONS);
