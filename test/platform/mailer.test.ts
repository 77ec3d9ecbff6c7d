import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailer } from '../../src/platform/mail/mailer.js';

const logger = pino({ level: 'silent' });
const received: { from: string; to: string[]; raw: string }[] = [];
let server: SMTPServer;
let port: number;
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'lectern-mail-'));
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  port = (server.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  await rm(folder, { recursive: true, force: true });
});

describe('mailer', () => {
  it('delivers through SMTP when SMTP_URL is set', async () => {
    const mailer = createMailer({
      smtpUrl: `smtp://127.0.0.1:${port}?ignoreTLS=true`,
      from: 'Lectern <no-reply@lectern.test>',
      outboxDir: folder,
      logger,
    });
    await mailer.send({
      to: 'learner@example.com',
      subject: 'Your receipt',
      text: 'Thank you for buying 编程入门.',
    });
    await mailer.close();
    expect(received).toHaveLength(1);
    expect(received[0]?.from).toBe('no-reply@lectern.test');
    expect(received[0]?.to).toEqual(['learner@example.com']);
    expect(received[0]?.raw).toContain('Subject: Your receipt');
  });

  it('writes to the local outbox folder when no SMTP server is configured', async () => {
    const mailer = createMailer({ from: 'Lectern <no-reply@lectern.test>', outboxDir: folder, logger });
    const { id } = await mailer.send({ to: 'a@example.com', subject: 'Verify your email', text: 'link' });
    const files = await readdir(folder);
    // only the finished mail: the partial file it was written to has been renamed into place
    expect(files).toEqual([`${id}.json`]);
    const stored = JSON.parse(await readFile(path.join(folder, `${id}.json`), 'utf8'));
    expect(stored).toMatchObject({ to: 'a@example.com', subject: 'Verify your email', text: 'link' });
  });

  it('makes the outbox folder when it is missing, also after someone removed it', async () => {
    const nested = path.join(folder, 'not-yet', 'mail');
    const mailer = createMailer({ from: 'Lectern <no-reply@lectern.test>', outboxDir: nested, logger });
    const first = await mailer.send({ to: 'a@example.com', subject: 'One', text: '1' });
    expect(await readdir(nested)).toEqual([`${first.id}.json`]);
    await rm(path.join(folder, 'not-yet'), { recursive: true });
    const second = await mailer.send({ to: 'a@example.com', subject: 'Two', text: '2' });
    expect(await readdir(nested)).toEqual([`${second.id}.json`]);
  });
});
