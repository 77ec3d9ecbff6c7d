import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import type { Logger } from 'pino';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  kind: 'smtp' | 'folder';
  send(message: MailMessage): Promise<{ id: string }>;
  close(): Promise<void>;
  describe(): string;
}

/**
 * SMTP when configured (nodemailer: pooled connections, auth, TLS are solved problems there);
 * otherwise each message is written as a JSON file to a local outbox folder and logged, so
 * flows that send mail (verification, reset, receipts) work on a bare machine.
 */
export function createMailer(options: {
  smtpUrl?: string | undefined;
  from: string;
  outboxDir: string;
  logger: Logger;
}): Mailer {
  const { smtpUrl, from, outboxDir, logger } = options;
  if (smtpUrl) {
    // nodemailer is loaded with the first mail, not at start: the outbox folder (the embedded
    // default) never needs it, and loading it costs every process memory and start-up time
    let transport: Transporter | undefined;
    const connect = async (): Promise<Transporter> => {
      transport ??= (await import('nodemailer')).default.createTransport(smtpUrl);
      return transport;
    };
    const u = new URL(smtpUrl);
    return {
      kind: 'smtp',
      async send(message) {
        const info = await (await connect()).sendMail({ from, ...message });
        logger.info({ to: message.to, subject: message.subject, messageId: info.messageId }, 'mail sent');
        return { id: info.messageId };
      },
      close() {
        transport?.close();
        return Promise.resolve();
      },
      describe: () => `SMTP at ${u.hostname}:${u.port || (u.protocol === 'smtps:' ? '465' : '587')}`,
    };
  }
  return {
    kind: 'folder',
    async send(message) {
      const id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}`;
      const file = path.join(outboxDir, `${id}.json`);
      // written beside it and renamed into place, so whoever watches the folder for `.json` files
      // (a developer's tool, a test) never reads half a mail
      const partial = `${file}.partial`;
      const text = JSON.stringify({ from, ...message }, null, 2);
      try {
        await writeFile(partial, text);
      } catch (err) {
        // the folder is made when a write finds it missing (the first mail, or after someone
        // removed it), not before every mail: a mkdir a mail was a third of the sending's time
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await mkdir(outboxDir, { recursive: true });
        await writeFile(partial, text);
      }
      await rename(partial, file);
      logger.info({ to: message.to, subject: message.subject, file }, 'mail written to the local outbox');
      return { id };
    },
    close: () => Promise.resolve(),
    describe: () => `mail outbox folder ${path.resolve(outboxDir)}`,
  };
}
