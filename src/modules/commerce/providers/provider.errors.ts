import { AppError, type ErrorKind } from '../../../platform/errors.js';

/** Why a notification was refused; each is a stable error code. */
export const NotificationErrors = {
  malformed: 'commerce.notification-malformed',
  badSignature: 'commerce.notification-bad-signature',
  stale: 'commerce.notification-stale',
  wrongMerchant: 'commerce.notification-wrong-merchant',
  unknownKey: 'commerce.notification-unknown-key',
  unsupported: 'commerce.notification-unsupported',
} as const;
export type NotificationErrorCode = (typeof NotificationErrors)[keyof typeof NotificationErrors];

/**
 * A notification we refuse. Anyone can post to a notify URL, so every refusal is a 4xx: a
 * forged, stale or garbled notification is the client's fault, never a 500.
 */
export class NotificationError extends AppError {
  constructor(code: NotificationErrorCode, message: string) {
    super(code === NotificationErrors.badSignature ? 'unauthenticated' : 'validation', code, message);
    this.name = 'NotificationError';
  }
}

export const ProviderErrors = {
  /** The provider could not be reached, answered garbage, or its answer's signature did not check. */
  unavailable: 'commerce.provider-unavailable',
  /** The provider refused the request (its own business error: not enough balance, trade closed…). */
  rejected: 'commerce.provider-rejected',
  /** The call needs something the caller did not give (Stripe needs the PaymentIntent id). */
  missingReference: 'commerce.provider-reference-missing',
} as const;
export type ProviderErrorCode = (typeof ProviderErrors)[keyof typeof ProviderErrors];

const kindOf: Record<ProviderErrorCode, ErrorKind> = {
  [ProviderErrors.unavailable]: 'unavailable',
  [ProviderErrors.rejected]: 'conflict',
  [ProviderErrors.missingReference]: 'validation',
};

/** An outbound call to a provider that did not give a usable answer. */
export class ProviderError extends AppError {
  constructor(
    code: ProviderErrorCode,
    message: string,
    readonly providerCode?: string,
  ) {
    super(kindOf[code], code, message, providerCode ? { providerCode } : {});
    this.name = 'ProviderError';
  }
}

/** Provider settings that cannot work (half configured, a key that does not parse); never echoes key material. */
export class ProviderConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderConfigError';
  }
}
