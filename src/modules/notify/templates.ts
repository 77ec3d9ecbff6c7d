import { formatMoney, money } from '../../platform/money.js';
import type { Kind } from './kinds.js';

export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];
export const isLocale = (value: unknown): value is Locale =>
  typeof value === 'string' && (LOCALES as readonly string[]).includes(value);

/** A message kind's text in one locale: `{{name}}` marks a variable, each paragraph its own block. */
interface Template {
  subject: string;
  paragraphs: string[];
}

export interface Rendered {
  subject: string;
  text: string;
  html: string;
  /** The short line the inbox and SMS show. */
  summary: string;
}

const T: Record<Kind, Record<Locale, Template>> = {
  welcome: {
    en: {
      subject: 'Welcome to Lectern, {{name}}',
      paragraphs: [
        'Hello {{name}},',
        'Your Lectern account is ready. Browse the catalog and start learning.',
      ],
    },
    'zh-CN': {
      subject: '欢迎来到 Lectern，{{name}}',
      paragraphs: ['{{name}}，您好：', '您的 Lectern 账户已创建，现在就去课程目录开始学习吧。'],
    },
  },
  order_receipt: {
    en: {
      subject: 'Your receipt for order {{orderId}}',
      paragraphs: [
        'Thank you for your purchase. You paid {{total}} on {{paidAt}}.',
        '{{lines}}',
        'Order: {{orderId}}',
      ],
    },
    'zh-CN': {
      subject: '订单 {{orderId}} 的付款收据',
      paragraphs: ['感谢您的购买。您已于 {{paidAt}} 支付 {{total}}。', '{{lines}}', '订单号：{{orderId}}'],
    },
  },
  refund_processed: {
    en: {
      subject: 'Refund of {{amount}} for order {{orderId}}',
      paragraphs: [
        'We refunded {{amount}} for order {{orderId}}.',
        'It may take a few days to reach your account.',
      ],
    },
    'zh-CN': {
      subject: '订单 {{orderId}} 已退款 {{amount}}',
      paragraphs: ['订单 {{orderId}} 已退款 {{amount}}。', '款项到账可能需要几天时间。'],
    },
  },
  payout_paid: {
    en: {
      subject: 'Your payout of {{amount}} was paid',
      paragraphs: [
        'We paid your payout of {{amount}} by bank transfer.',
        'Transfer reference: {{reference}}',
        'It may take a few days to reach your bank account.',
      ],
    },
    'zh-CN': {
      subject: '您的 {{amount}} 结算款已支付',
      paragraphs: [
        '您的 {{amount}} 结算款已通过银行转账支付。',
        '转账参考号：{{reference}}',
        '款项到账可能需要几天时间。',
      ],
    },
  },
  payout_rejected: {
    en: {
      subject: 'Your payout request of {{amount}} was not approved',
      paragraphs: [
        'Your payout request of {{amount}} was not approved.',
        'Reason: {{reason}}',
        'The amount is available again; you may request a new payout.',
      ],
    },
    'zh-CN': {
      subject: '您的 {{amount}} 提现申请未通过',
      paragraphs: [
        '您的 {{amount}} 提现申请未通过。',
        '原因：{{reason}}',
        '该金额已重新计入可提现余额，您可以再次申请。',
      ],
    },
  },
  password_reset_requested: {
    en: {
      subject: 'A password reset was requested',
      paragraphs: [
        'Someone asked to reset your password; the link we emailed is valid until {{expiresAt}}.',
        'If it was not you, ignore the email: your password is unchanged.',
      ],
    },
    'zh-CN': {
      subject: '有人申请重置您的密码',
      paragraphs: [
        '有人申请重置您的密码，邮件中的链接在 {{expiresAt}} 前有效。',
        '如果不是您本人操作，请忽略该邮件，您的密码不会改变。',
      ],
    },
  },
  new_device_sign_in: {
    en: {
      subject: 'New sign-in to your account',
      paragraphs: [
        'Your account was signed in from a device it had not used before, at {{at}}.',
        'Device: {{device}}. Address: {{ip}}.',
        'If this was you, there is nothing to do. If not, change your password now: that signs out every session.',
      ],
    },
    'zh-CN': {
      subject: '您的账号在新设备上登录',
      paragraphs: [
        '您的账号于 {{at}} 在一台此前未使用过的设备上登录。',
        '设备：{{device}}。地址：{{ip}}。',
        '如果是您本人操作，无需处理；如果不是，请立即修改密码，所有会话都会随之退出。',
      ],
    },
  },
  instructor_approved: {
    en: {
      subject: 'You are now a Lectern instructor',
      paragraphs: [
        'Congratulations {{name}}, your instructor application was approved.',
        'You can now create courses.',
      ],
    },
    'zh-CN': {
      subject: '您已成为 Lectern 讲师',
      paragraphs: ['恭喜 {{name}}，您的讲师申请已通过。', '现在就可以创建课程了。'],
    },
  },
  instructor_rejected: {
    en: {
      subject: 'Your instructor application was not approved',
      paragraphs: [
        'Your instructor application was not approved this time.',
        'The reviewer’s note: {{note}}',
        'You may apply again with more about your teaching.',
      ],
    },
    'zh-CN': {
      subject: '您的讲师申请未通过',
      paragraphs: [
        '很遗憾，您本次的讲师申请未通过。',
        '审核意见：{{note}}',
        '您可以补充教学经历后再次申请。',
      ],
    },
  },
  course_published: {
    en: {
      subject: 'Your course “{{title}}” is published',
      paragraphs: ['“{{title}}” passed review and is now on sale.'],
    },
    'zh-CN': {
      subject: '您的课程《{{title}}》已上架',
      paragraphs: ['《{{title}}》已通过审核，现已上架销售。'],
    },
  },
  course_rejected: {
    en: {
      subject: 'Your course “{{title}}” needs changes',
      paragraphs: ['“{{title}}” was not approved.', 'Reviewer’s note: {{reason}}'],
    },
    'zh-CN': {
      subject: '您的课程《{{title}}》需要修改',
      paragraphs: ['《{{title}}》未通过审核。', '审核意见：{{reason}}'],
    },
  },
  certificate_issued: {
    en: {
      subject: 'Your certificate for “{{courseTitle}}”',
      paragraphs: [
        'Well done! You earned a certificate for “{{courseTitle}}”.',
        'Verification id: {{verificationId}}',
      ],
    },
    'zh-CN': {
      subject: '《{{courseTitle}}》结业证书',
      paragraphs: ['恭喜！您已获得《{{courseTitle}}》的结业证书。', '证书验证编号：{{verificationId}}'],
    },
  },
  comment_replied: {
    en: {
      subject: 'New reply to your comment',
      paragraphs: ['Someone replied to your comment on a lesson:', '“{{excerpt}}”', 'Lesson: {{lessonId}}'],
    },
    'zh-CN': {
      subject: '您的评论有了新回复',
      paragraphs: ['有人回复了您在课时下的评论：', '“{{excerpt}}”', '课时：{{lessonId}}'],
    },
  },
  comment_mentioned: {
    en: {
      subject: 'You were mentioned in a comment',
      paragraphs: ['Someone mentioned you in the discussion of a lesson.', 'Lesson: {{lessonId}}'],
    },
    'zh-CN': {
      subject: '有人在评论中提到了您',
      paragraphs: ['有人在课时讨论中提到了您。', '课时：{{lessonId}}'],
    },
  },
  lesson_question: {
    en: {
      subject: 'New question on your lesson',
      paragraphs: [
        'A learner asked a question in the discussion of a lesson of your course.',
        'Lesson: {{lessonId}}',
      ],
    },
    'zh-CN': {
      subject: '您的课时有新提问',
      paragraphs: ['有学员在您课程的课时讨论中提出了问题。', '课时：{{lessonId}}'],
    },
  },
  course_reviewed: {
    en: {
      subject: 'New {{rating}}-star review of your course',
      paragraphs: [
        'A learner reviewed your course and rated it {{rating}} out of 5.',
        'Course: {{courseId}}',
      ],
    },
    'zh-CN': {
      subject: '您的课程收到一条 {{rating}} 星评价',
      paragraphs: ['有学员评价了您的课程，评分 {{rating}} 星（满分 5 星）。', '课程：{{courseId}}'],
    },
  },
  course_updated: {
    en: {
      subject: 'A course you take was updated',
      paragraphs: ['A course you are enrolled in changed: {{changes}}.', 'Course: {{courseId}}'],
    },
    'zh-CN': {
      subject: '您学习的课程有更新',
      paragraphs: ['您报名的课程有更新：{{changes}}。', '课程：{{courseId}}'],
    },
  },
  course_digest: {
    en: {
      subject: 'Your course updates of {{day}}',
      paragraphs: ['Courses you take changed on {{day}} (UTC):', '{{items}}'],
    },
    'zh-CN': {
      subject: '{{day}} 的课程更新',
      paragraphs: ['您学习的课程在 {{day}}（UTC）有以下更新：', '{{items}}'],
    },
  },
  announcement: {
    en: { subject: '{{title}}', paragraphs: ['{{body}}'] },
    'zh-CN': { subject: '{{title}}', paragraphs: ['{{body}}'] },
  },
};

/**
 * The community kinds as they read when the event named the course (and lesson) by title, which
 * `needs` lists; an event written before community sent titles has ids only and reads as in `T`.
 */
const TITLED: Partial<Record<Kind, { needs: readonly string[]; text: Record<Locale, Template> }>> = {
  comment_replied: {
    needs: ['lessonTitle', 'courseTitle'],
    text: {
      en: {
        subject: 'New reply to your comment on “{{lessonTitle}}”',
        paragraphs: [
          'Someone replied to your comment on a lesson:',
          '“{{excerpt}}”',
          'Lesson: {{lessonTitle}} — {{courseTitle}}',
        ],
      },
      'zh-CN': {
        subject: '您在课时“{{lessonTitle}}”下的评论有了新回复',
        paragraphs: [
          '有人回复了您在课时下的评论：',
          '“{{excerpt}}”',
          '课时：{{lessonTitle}}（《{{courseTitle}}》）',
        ],
      },
    },
  },
  comment_mentioned: {
    needs: ['lessonTitle', 'courseTitle'],
    text: {
      en: {
        subject: 'You were mentioned in a comment on “{{lessonTitle}}”',
        paragraphs: [
          'Someone mentioned you in the discussion of a lesson.',
          'Lesson: {{lessonTitle}} — {{courseTitle}}',
        ],
      },
      'zh-CN': {
        subject: '有人在课时“{{lessonTitle}}”的评论中提到了您',
        paragraphs: ['有人在课时讨论中提到了您。', '课时：{{lessonTitle}}（《{{courseTitle}}》）'],
      },
    },
  },
  lesson_question: {
    needs: ['lessonTitle', 'courseTitle'],
    text: {
      en: {
        subject: 'New question on “{{lessonTitle}}”',
        paragraphs: [
          'A learner asked a question in the discussion of a lesson of your course.',
          'Lesson: {{lessonTitle}} — {{courseTitle}}',
        ],
      },
      'zh-CN': {
        subject: '您的课时“{{lessonTitle}}”有新提问',
        paragraphs: [
          '有学员在您课程的课时讨论中提出了问题。',
          '课时：{{lessonTitle}}（《{{courseTitle}}》）',
        ],
      },
    },
  },
  course_reviewed: {
    needs: ['courseTitle'],
    text: {
      en: {
        subject: 'New {{rating}}-star review of “{{courseTitle}}”',
        paragraphs: [
          'A learner reviewed your course and rated it {{rating}} out of 5.',
          'Course: {{courseTitle}}',
        ],
      },
      'zh-CN': {
        subject: '您的课程《{{courseTitle}}》收到一条 {{rating}} 星评价',
        paragraphs: ['有学员评价了您的课程，评分 {{rating}} 星（满分 5 星）。', '课程：《{{courseTitle}}》'],
      },
    },
  },
};

/** The kind's titled text when the payload has every title it needs, else its id-based text. */
function templateOf(kind: Kind, vars: Record<string, string>, locale: Locale): Template {
  const titled = TITLED[kind];
  return titled?.needs.every((name) => (vars[name] ?? '') !== '') ? titled.text[locale] : T[kind][locale];
}

/** Sample payloads for the admin preview, one per kind. */
export const SAMPLE_PAYLOADS: Record<Kind, Record<string, unknown>> = {
  welcome: { displayName: 'Ada <Lovelace>' },
  order_receipt: {
    orderId: 'ord_123',
    total: 19_900,
    currency: 'CNY',
    paidAt: '2026-01-01T08:00:00.000Z',
    lines: [{ title: 'TypeScript & <Friends>', amount: 19_900 }],
  },
  refund_processed: { orderId: 'ord_123', amount: 9_900, currency: 'CNY', orderStatus: 'partially_refunded' },
  payout_paid: {
    payoutId: 'po_123',
    amount: 120_000,
    currency: 'CNY',
    reference: 'TRF <2026-0001>',
    paidAt: '2026-01-01T08:00:00.000Z',
  },
  payout_rejected: {
    payoutId: 'po_123',
    amount: 120_000,
    currency: 'CNY',
    reason: 'The bank account <name> does not match.',
    rejectedAt: '2026-01-01T08:00:00.000Z',
  },
  password_reset_requested: { expiresAt: '2026-01-01T09:00:00.000Z' },
  new_device_sign_in: {
    userAgent: 'Mozilla/5.0 <script> (X11; Linux x86_64)',
    ip: '203.0.113.7',
    at: '2026-01-01T08:00:00.000Z',
  },
  instructor_approved: { displayName: 'Ada Lovelace' },
  instructor_rejected: { note: 'Tell us more about <your> teaching & courses.' },
  course_published: { courseId: 'c1', title: 'TypeScript & <Friends>' },
  course_rejected: { courseId: 'c1', title: 'TypeScript & <Friends>', reason: 'The audio is too quiet.' },
  certificate_issued: { courseTitle: 'TypeScript & <Friends>', verificationId: 'LEC-0001' },
  comment_replied: {
    lessonId: 'l1',
    excerpt: 'Check <the> second step & retry.',
    courseTitle: 'PostgreSQL <in> practice',
    lessonTitle: '3. Window functions & frames',
  },
  comment_mentioned: {
    commentId: 'cm1',
    parentId: null,
    lessonId: 'l1',
    courseId: 'c1',
    courseTitle: 'PostgreSQL <in> practice',
    lessonTitle: '3. Window functions & frames',
  },
  lesson_question: {
    commentId: 'cm1',
    lessonId: 'l1',
    courseId: 'c1',
    courseTitle: 'PostgreSQL <in> practice',
    lessonTitle: '3. Window functions & frames',
  },
  course_reviewed: { reviewId: 'r1', courseId: 'c1', rating: 4, courseTitle: 'PostgreSQL <in> practice' },
  course_updated: { courseId: 'c1', changes: ['outline'] },
  course_digest: {
    day: '2026-03-01',
    items: [{ courseId: 'c1', changes: ['outline', 'new lesson: Intro'] }],
  },
  announcement: { title: 'Maintenance on Sunday', body: 'Lectern is offline from 02:00 to 03:00 UTC.' },
};

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

const str = (value: unknown): string =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : '';

function amount(value: unknown, currency: unknown, locale: Locale): string {
  if (typeof value !== 'number' || typeof currency !== 'string') return '';
  try {
    return formatMoney(money(value, currency), locale);
  } catch {
    // a currency the platform does not know still shows, unformatted, rather than failing the mail
    return `${value} ${currency}`;
  }
}

// made once per locale: an Intl.DateTimeFormat costs ~100 µs to make and ~1 µs to use
const dateFormats = new Map<Locale, Intl.DateTimeFormat>();
function dateFormat(locale: Locale): Intl.DateTimeFormat {
  let format = dateFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
    dateFormats.set(locale, format);
  }
  return format;
}

function when(value: unknown, locale: Locale): string {
  const date = typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) return '';
  return `${dateFormat(locale).format(date)} UTC`;
}

/** The variables of a kind's template, formatted for the locale (money, dates) but not escaped. */
export function variablesOf(
  kind: Kind,
  payload: Record<string, unknown>,
  locale: Locale,
): Record<string, string> {
  const p = payload;
  switch (kind) {
    case 'welcome':
    case 'instructor_approved':
      return { name: str(p.displayName) };
    case 'instructor_rejected':
      return { note: p.note === null || p.note === undefined ? '—' : str(p.note) };
    case 'order_receipt': {
      const lines = Array.isArray(p.lines) ? (p.lines as Record<string, unknown>[]) : [];
      return {
        orderId: str(p.orderId),
        total: amount(p.total, p.currency, locale),
        paidAt: when(p.paidAt, locale),
        lines: lines.map((l) => `${str(l.title)}: ${amount(l.amount, p.currency, locale)}`).join('\n'),
      };
    }
    case 'refund_processed':
      return { orderId: str(p.orderId), amount: amount(p.amount, p.currency, locale) };
    case 'payout_paid':
      return { amount: amount(p.amount, p.currency, locale), reference: str(p.reference) };
    case 'payout_rejected':
      return { amount: amount(p.amount, p.currency, locale), reason: str(p.reason) };
    case 'password_reset_requested':
      return { expiresAt: when(p.expiresAt, locale) };
    case 'new_device_sign_in':
      return {
        at: when(p.at, locale),
        device: typeof p.userAgent === 'string' && p.userAgent !== '' ? p.userAgent : '—',
        ip: typeof p.ip === 'string' && p.ip !== '' ? p.ip : '—',
      };
    case 'course_published':
    case 'course_rejected':
      return { title: str(p.title), reason: str(p.reason), courseId: str(p.courseId) };
    case 'certificate_issued':
      return { courseTitle: str(p.courseTitle), verificationId: str(p.verificationId) };
    case 'comment_replied':
      return {
        lessonId: str(p.lessonId),
        excerpt: str(p.excerpt),
        lessonTitle: str(p.lessonTitle),
        courseTitle: str(p.courseTitle),
      };
    case 'comment_mentioned':
    case 'lesson_question':
      return { lessonId: str(p.lessonId), lessonTitle: str(p.lessonTitle), courseTitle: str(p.courseTitle) };
    case 'course_reviewed':
      return { rating: str(p.rating), courseId: str(p.courseId), courseTitle: str(p.courseTitle) };
    case 'course_updated':
      return {
        courseId: str(p.courseId),
        changes: Array.isArray(p.changes) ? p.changes.map(str).join(', ') : '',
      };
    case 'course_digest': {
      const items = Array.isArray(p.items) ? (p.items as Record<string, unknown>[]) : [];
      return {
        day: str(p.day),
        items: items
          .map((i) => `${str(i.courseId)}: ${Array.isArray(i.changes) ? i.changes.map(str).join(', ') : ''}`)
          .join('\n'),
      };
    }
    case 'announcement':
      return { title: str(p.title), body: str(p.body) };
  }
}

const fill = (template: string, vars: Record<string, string>, escape: (s: string) => string) =>
  template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => escape(vars[name] ?? ''));

/** Subject, text and HTML of a message; every variable is escaped in the HTML. */
export function render(kind: Kind, payload: Record<string, unknown>, locale: Locale): Rendered {
  const vars = variablesOf(kind, payload, locale);
  const template = templateOf(kind, vars, locale);
  const plain = (s: string) => s;
  const subject = fill(template.subject, vars, plain);
  const paragraphs = template.paragraphs.map((p) => fill(p, vars, plain));
  const html = template.paragraphs
    .map((p) => `<p>${fill(escapeHtml(p), vars, escapeHtml).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
  return {
    subject,
    text: paragraphs.join('\n\n'),
    html: `<!doctype html>\n<html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body>\n${html}\n</body></html>`,
    summary: subject,
  };
}
