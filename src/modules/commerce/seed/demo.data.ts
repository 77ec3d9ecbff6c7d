import { DEMO_ADMIN_ID, DEMO_LEARNER_IDS } from '../../identity/index.js';

/**
 * Demo sales. The buyers are identity's demo learners, real accounts with fixed ids (commerce
 * does not ask identity for anyone: it takes the ids as they are). `learner@demo.lectern.dev` is
 * not among them and owns nothing, so the README's "Buy a course with curl" can order any course
 * it picks. A demo learner is never a course's instructor. Public demo data, never production data.
 */
export const DEMO_BUYERS = DEMO_LEARNER_IDS;

/** Who creates the coupon and refunds the demo order, as the transitions record it: the demo admin. */
export { DEMO_ADMIN_ID };

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
