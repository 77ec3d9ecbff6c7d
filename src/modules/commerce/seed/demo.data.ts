/**
 * Demo sales. The buyers are commerce demo personas with fixed ids, not identity accounts:
 * commerce does not ask identity for anyone, and `learner@demo.lectern.dev` then owns nothing,
 * so the README's "Buy a course with curl" can order any course it picks. A persona is never a
 * course's instructor. Public demo data, never production data.
 */
export const DEMO_BUYERS = [
  '00000000-0000-4000-8000-00000000b001',
  '00000000-0000-4000-8000-00000000b002',
  '00000000-0000-4000-8000-00000000b003',
  '00000000-0000-4000-8000-00000000b004',
  '00000000-0000-4000-8000-00000000b005',
  '00000000-0000-4000-8000-00000000b006',
] as const;

/** Who creates the coupon and refunds the demo order, as the transitions record it. */
export const DEMO_ADMIN_ID = '00000000-0000-4000-8000-00000000b000';

/** Paid sandbox orders, one course each, taken round-robin over the courses' owners. */
export const DEMO_ORDERS = 10;

/** The coupon a reader can try: one use per learner, a year from seeding. */
export const DEMO_COUPON = {
  code: 'DEMO10',
  percentBps: 1000,
  totalLimit: 10_000,
  perUserLimit: 1,
  days: 365,
} as const;

export const DEMO_REFUND_REASON = 'Bought the wrong course (demo refund)';
