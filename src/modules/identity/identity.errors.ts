import { AppError } from '../../platform/errors.js';
import { DEMO_EMAIL_DOMAIN } from './demo-domain.js';

/**
 * Every stable error code identity answers with, in one place. The string values are a promise to
 * clients and tests: never change one, add a new code instead. Groups follow the service that
 * raises them; `IdentityErrors` builds the errors that are raised from more than one place.
 */
export const AccountErrors = {
  notFound: 'identity.user-not-found',
  currentPasswordIncorrect: 'identity.current-password-incorrect',
  applicationPending: 'identity.application-pending',
  alreadyInstructor: 'identity.already-instructor',
  noApplication: 'identity.application-not-found',
  closeRefused: 'identity.account-close-refused',
  closed: 'identity.account-closed',
  emailUnchanged: 'identity.email-unchanged',
  emailTaken: 'identity.email-taken',
  emailDomainReserved: 'identity.email-domain-reserved',
} as const;

export const DataExportErrors = {
  notFound: 'identity.data-export-not-found',
  notReady: 'identity.data-export-not-ready',
  tooSoon: 'identity.data-export-too-soon',
} as const;

export const AdminErrors = {
  userNotFound: 'identity.user-not-found',
  selfLockout: 'identity.cannot-lock-out-self',
  applicationNotFound: 'identity.application-not-found',
  applicationDecided: 'identity.application-already-decided',
} as const;

export const LoginErrors = {
  invalidCredentials: 'identity.invalid-credentials',
  accountDisabled: 'identity.account-disabled',
  mfaRequired: 'identity.mfa-required',
  mfaChallengeInvalid: 'identity.mfa-challenge-invalid',
  logoutNeedsToken: 'identity.logout-needs-token',
} as const;

export const MfaErrors = {
  alreadyEnabled: 'identity.mfa-already-enabled',
  notEnrolling: 'identity.mfa-not-enrolling',
  notEnabled: 'identity.mfa-not-enabled',
  codeInvalid: 'identity.mfa-code-invalid',
  reauthRequired: 'identity.reauthentication-required',
  reauthFailed: 'identity.reauthentication-failed',
  secretUnavailable: 'identity.mfa-secret-unavailable',
} as const;

export const OneTimeTokenErrors = {
  invalid: 'identity.token-invalid',
  expired: 'identity.token-expired',
} as const;

export const PasswordErrors = {
  tooShort: 'identity.password-too-short',
  tooLong: 'identity.password-too-long',
  tooCommon: 'identity.password-too-common',
  containsEmail: 'identity.password-contains-email',
} as const;

export const RefreshErrors = {
  invalid: 'identity.refresh-token-invalid',
  reused: 'identity.refresh-token-reused',
  accountDisabled: 'identity.account-disabled',
} as const;

export const ClientErrors = {
  invalid: 'identity.client-invalid',
  notFound: 'identity.client-not-found',
  builtIn: 'identity.client-built-in',
  noSecret: 'identity.client-has-no-secret',
} as const;

/** 429 of the login throttle; the OAuth endpoints map it to `invalid_grant` with Retry-After. */
export const THROTTLED_CODE = 'identity.login-throttled';

/** Access-token refusals; `auth.*` because resource servers of every module answer them. */
export const AuthErrors = {
  required: 'auth.required',
  tokenRevoked: 'auth.token-revoked',
} as const;
export const TOKEN_REVOKED_CODE = AuthErrors.tokenRevoked;

/** Builders of the errors raised from more than one place, so message and code stay together. */
export const IdentityErrors = {
  userNotFound: () => AppError.notFound(AccountErrors.notFound, 'No such user.'),
  tokenRequired: () => AppError.unauthenticated(AuthErrors.required, 'This route needs an access token.'),
  tokenRevoked: () => AppError.unauthenticated(AuthErrors.tokenRevoked, 'The access token has been revoked.'),
  throttled: (retryAfterSeconds: number) =>
    new AppError(
      'rate_limited',
      THROTTLED_CODE,
      `Too many failed attempts. Try again in ${retryAfterSeconds} seconds.`,
      { retryAfterSeconds },
    ),
  /** An address at the demo domain (`demo-domain.ts`): a static rule, so it says plainly why. */
  emailDomainReserved: (field: string) =>
    AppError.validation(
      AccountErrors.emailDomainReserved,
      `Addresses at ${DEMO_EMAIL_DOMAIN} are reserved for the demo accounts; use another address.`,
      [{ field, message: `is at the reserved domain ${DEMO_EMAIL_DOMAIN}` }],
    ),
  clientInvalid: (message: string, field: string, fieldMessage: string) =>
    AppError.validation(ClientErrors.invalid, message, [{ field, message: fieldMessage }]),
} as const;
