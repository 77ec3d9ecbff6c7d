import type { Logger } from 'pino';
import type { MailMessage, Mailer } from '../../platform/mail/mailer.js';

export type IdentityMail = ReturnType<typeof createIdentityMail>;

/**
 * Account mail (verification, reset, notices), sent after the transaction commits and without
 * holding up the answer: whether a mail goes out must not change the response or its timing,
 * or the endpoint would reveal which addresses have accounts. A failed send is logged; the user
 * can ask again (resend verification, request another reset).
 */
export function createIdentityMail(deps: { mailer: Mailer; logger: Logger; appUrl: () => string }) {
  const { mailer, logger, appUrl } = deps;
  const pending = new Set<Promise<void>>();

  const send = (kind: string, message: MailMessage) => {
    const job = mailer
      .send(message)
      .then(() => undefined)
      .catch((err: unknown) => {
        logger.error({ err, kind }, 'identity mail could not be sent');
      })
      .finally(() => pending.delete(job));
    pending.add(job);
  };

  // the token rides in the fragment: browsers never send it to a server or in a Referer header
  const link = (path: string, token: string) => `${appUrl()}${path}#token=${token}`;

  return {
    verification(to: string, displayName: string, token: string) {
      send('verify_email', {
        to,
        subject: 'Confirm your Lectern email address',
        text: [
          `Hello ${displayName},`,
          '',
          'Confirm your email address by opening this link within 24 hours:',
          link('/verify-email', token),
          '',
          `Or paste this code into the app: ${token}`,
          '',
          'If you did not create a Lectern account, ignore this message.',
        ].join('\n'),
      });
    },

    alreadyRegistered(to: string) {
      send('already_registered', {
        to,
        subject: 'Someone tried to create a Lectern account with your address',
        text: [
          'Someone, maybe you, tried to create a Lectern account with this email address, which already has one.',
          '',
          `If it was you, sign in, or reset your password at ${appUrl()}/reset-password.`,
          'If it was not you, you can ignore this message; your account is unchanged.',
        ].join('\n'),
      });
    },

    passwordReset(to: string, token: string, minutes: number) {
      send('reset_password', {
        to,
        subject: 'Reset your Lectern password',
        text: [
          `Open this link within ${minutes} minutes to choose a new password:`,
          link('/reset-password', token),
          '',
          `Or paste this code into the app: ${token}`,
          '',
          'If you did not ask for this, ignore this message; your password is unchanged.',
        ].join('\n'),
      });
    },

    passwordChanged(to: string) {
      send('password_changed', {
        to,
        subject: 'Your Lectern password was changed',
        text: [
          'The password of your Lectern account was just changed, and your other sessions were signed out.',
          '',
          `If this was not you, reset your password now at ${appUrl()}/reset-password.`,
        ].join('\n'),
      });
    },

    /** A security notice: a copy of everything the account holds was asked for. */
    dataExportRequested(to: string) {
      send('data_export_requested', {
        to,
        subject: 'A copy of your Lectern data was requested',
        text: [
          'A copy of the personal data your Lectern account holds was just requested, with your password.',
          'We will write again when it is ready to download from your account.',
          '',
          `If this was not you, reset your password now at ${appUrl()}/reset-password.`,
        ].join('\n'),
      });
    },

    dataExportReady(to: string, displayName: string, expiresAt: Date) {
      send('data_export_ready', {
        to,
        subject: 'Your copy of your Lectern data is ready',
        text: [
          `Hello ${displayName},`,
          '',
          'The copy of your personal data that you requested is ready. Sign in and download it from',
          `your account's data page (${appUrl()}/account/data) until ${expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
          '',
          'If you did not ask for it, reset your password now and tell us.',
        ].join('\n'),
      });
    },

    emailChangeVerification(to: string, displayName: string, token: string) {
      send('change_email', {
        to,
        subject: 'Confirm your new Lectern email address',
        text: [
          `Hello ${displayName},`,
          '',
          'To move your Lectern account to this address, open this link within 24 hours:',
          link('/change-email', token),
          '',
          `Or paste this code into the app: ${token}`,
          '',
          'If you did not ask for this, ignore this message; no account changes.',
        ].join('\n'),
      });
    },

    /** To the current address: a change was asked for, and how to stop a stranger's. */
    emailChangeRequested(to: string) {
      send('change_email_requested', {
        to,
        subject: 'A new email address was requested for your Lectern account',
        text: [
          'Someone signed in to your Lectern account asked to move it to another address. It moves only',
          'when that address confirms.',
          '',
          `If this was not you, reset your password now at ${appUrl()}/reset-password.`,
        ].join('\n'),
      });
    },

    emailChanged(to: string) {
      send('email_changed', {
        to,
        subject: 'Your Lectern account moved to another email address',
        text: [
          'Your Lectern account now uses another email address; mail about it no longer comes here.',
          '',
          'If this was not you, contact support at once.',
        ].join('\n'),
      });
    },

    /** A change asked to move another account to this address, which has one: nothing changed. */
    addressInUse(to: string) {
      send('address_in_use', {
        to,
        subject: 'Someone tried to use your address for another Lectern account',
        text: [
          'Someone asked to move another Lectern account to this email address, which already has one.',
          'Nothing changed; you can ignore this message.',
        ].join('\n'),
      });
    },

    /** Wait for mail still being sent (clean shutdown, tests). */
    async drain(): Promise<void> {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
