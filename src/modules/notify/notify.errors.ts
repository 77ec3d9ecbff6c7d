import { AppError } from '../../platform/errors.js';

/**
 * Every stable error code of the notify module. Clients branch on these strings; a value never
 * changes once released.
 */
export const NotifyErrors = {
  notificationNotFound: 'notify.notification-not-found',
  deliveryNotFound: 'notify.delivery-not-found',
  deliveryNotRetryable: 'notify.delivery-not-retryable',
  unknownKind: 'notify.unknown-kind',
  transactionalKind: 'notify.transactional-kind',
  channelNotOffered: 'notify.channel-not-offered',
  badTimeZone: 'notify.bad-time-zone',
  unsupportedSubject: 'notify.unsupported-subject',
  broadcastNotFound: 'notify.broadcast-not-found',
} as const;

export const notificationNotFound = () =>
  AppError.notFound(NotifyErrors.notificationNotFound, 'No such notification in your inbox.');

export const deliveryNotFound = () => AppError.notFound(NotifyErrors.deliveryNotFound, 'No such delivery.');

export const deliveryNotRetryable = (status: string) =>
  AppError.conflict(
    NotifyErrors.deliveryNotRetryable,
    `Only failed or dead deliveries can be retried; this one is ${status}.`,
  );

export const unknownKind = (kind: string) =>
  AppError.notFound(NotifyErrors.unknownKind, `There is no notification kind "${kind}".`);

export const transactionalKind = (kind: string) =>
  new AppError(
    'conflict',
    NotifyErrors.transactionalKind,
    `"${kind}" messages are transactional (receipts, refunds, security notices) and cannot be turned off.`,
  );

export const channelNotOffered = (kind: string, channel: string) =>
  AppError.validation(NotifyErrors.channelNotOffered, `"${kind}" is not sent by ${channel}.`, [
    { field: '/body/channels', message: `${kind} has no ${channel} channel` },
  ]);

export const badTimeZone = () =>
  AppError.validation(NotifyErrors.badTimeZone, 'The time zone is not an IANA time zone name.', [
    { field: '/body/quietHours/timeZone', message: 'is not a known time zone' },
  ]);

export const unsupportedSubject = () =>
  AppError.forbidden(NotifyErrors.unsupportedSubject, 'This token’s subject is not a user of this platform.');
