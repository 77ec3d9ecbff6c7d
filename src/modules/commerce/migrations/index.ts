import type { Migration } from 'kysely';
import { outboxMigration } from '../../../platform/messaging/outbox.js';
import * as orders from './0001-orders.js';
import * as coupons from './0002-coupons.js';
import * as ledger from './0003-ledger.js';
import * as refunds from './0004-refunds.js';
import * as flaggedRefunds from './0005-flagged-payment-refunds.js';
import * as payouts from './0006-payouts.js';
import * as couponRedemptionsByUser from './0007-coupon-redemptions-by-user.js';

export const commerceMigrations: Record<string, Migration> = {
  '0000-messaging': outboxMigration('commerce'),
  '0001-orders': orders,
  '0002-coupons': coupons,
  '0003-ledger': ledger,
  '0004-refunds': refunds,
  '0005-flagged-payment-refunds': flaggedRefunds,
  '0006-payouts': payouts,
  '0007-coupon-redemptions-by-user': couponRedemptionsByUser,
};
