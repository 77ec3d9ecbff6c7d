import type { Channel } from './tables.js';

/**
 * Every kind of message notify sends, with its channels and rules. Transactional kinds (receipts,
 * refunds, security notices) go out whatever the preferences say; urgent kinds ignore quiet hours.
 */
export interface KindRule {
  /** Outside channels this kind may use; the in-app inbox always gets the notification. */
  channels: readonly Channel[];
  /** Channels on when the user never chose. */
  defaultOn: readonly Channel[];
  transactional: boolean;
  urgent: boolean;
}

export const KINDS = {
  welcome: { channels: ['email'], defaultOn: ['email'], transactional: false, urgent: false },
  order_receipt: { channels: ['email', 'sms'], defaultOn: ['email'], transactional: true, urgent: true },
  refund_processed: { channels: ['email', 'sms'], defaultOn: ['email'], transactional: true, urgent: true },
  // an instructor's own money: told whatever they chose, but a transfer already made (or refused)
  // is not worth a message in their quiet hours, so these wait for the morning
  payout_paid: { channels: ['email'], defaultOn: ['email'], transactional: true, urgent: false },
  payout_rejected: { channels: ['email'], defaultOn: ['email'], transactional: true, urgent: false },
  password_reset_requested: { channels: [], defaultOn: [], transactional: true, urgent: true },
  // a security notice: the owner must hear of a sign-in they may not have made, whatever they chose
  new_device_sign_in: { channels: ['email'], defaultOn: ['email'], transactional: true, urgent: true },
  instructor_approved: { channels: ['email'], defaultOn: ['email'], transactional: false, urgent: false },
  instructor_rejected: { channels: ['email'], defaultOn: ['email'], transactional: false, urgent: false },
  course_published: { channels: ['email'], defaultOn: ['email'], transactional: false, urgent: false },
  course_rejected: { channels: ['email'], defaultOn: ['email'], transactional: false, urgent: false },
  certificate_issued: { channels: ['email'], defaultOn: ['email'], transactional: false, urgent: false },
  // a discussion is chatty: in-app unless asked for
  comment_replied: { channels: ['email'], defaultOn: [], transactional: false, urgent: false },
  comment_mentioned: { channels: ['email'], defaultOn: [], transactional: false, urgent: false },
  // an instructor of a popular course hears of questions and reviews many times a day: in-app
  // unless they ask for the mail
  lesson_question: { channels: ['email'], defaultOn: [], transactional: false, urgent: false },
  course_reviewed: { channels: ['email'], defaultOn: [], transactional: false, urgent: false },
  // one email per update to thousands of learners would be spam: in-app unless asked for
  course_updated: { channels: ['email'], defaultOn: [], transactional: false, urgent: false },
  // one mail a day of the day's course updates, for those who ask for it (course_updated mails per change)
  course_digest: { channels: ['email'], defaultOn: [], transactional: false, urgent: false },
  announcement: { channels: ['email'], defaultOn: [], transactional: false, urgent: false },
} as const satisfies Record<string, KindRule>;

export type Kind = keyof typeof KINDS;
export const KIND_NAMES = Object.keys(KINDS) as Kind[];

export const isKind = (value: string): value is Kind => Object.hasOwn(KINDS, value);

export const ruleOf = (kind: Kind): KindRule => KINDS[kind];
