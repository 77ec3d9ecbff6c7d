/**
 * The one place that says which role may do what in commerce. Routes ask `rolesFor(permission)`
 * and hand the answer to the platform guard; services ask `can(roles, …)`. Buying needs no
 * permission beyond a signed-in user: every account may buy.
 */
import { permissionMap, type Role } from '../../platform/permissions.js';

export const PERMISSIONS = {
  /** See and cancel anyone's orders, list them with filters, ask a provider about a payment. */
  'orders:manage-any': ['admin'],
  /** Create, change and delete coupons. */
  'coupons:manage': ['admin'],
  /** Preview a coupon against a cart. */
  'coupons:preview': ['learner', 'instructor', 'admin'],
  /** See one's own earnings as an instructor. */
  'earnings:read-own': ['instructor', 'admin'],
  /** See every instructor's earnings and the ledger's trial balance. */
  'ledger:read-all': ['admin'],
  /** See one's own payout balance, ask for payouts of it, list and cancel one's own requests. */
  'payouts:own': ['instructor'],
  /** List every payout, mark one paid (after the bank transfer) or reject it. */
  'payouts:manage': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export const { rolesFor, can } = permissionMap(PERMISSIONS);
