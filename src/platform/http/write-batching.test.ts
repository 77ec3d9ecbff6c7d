import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { batchAnswerWrites } from './write-batching.js';

let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function listening(setup: (app: FastifyInstance) => void): Promise<string> {
  app = Fastify();
  batchAnswerWrites(app);
  setup(app);
  return app.listen({ host: '127.0.0.1', port: 0 });
}

describe('answers written at the end of the turn', () => {
  it('holds an answer until the turn ends, then writes it', async () => {
    const seen: string[] = [];
    const base = await listening((a) =>
      a.get('/', (_request, reply) => {
        void reply.send({ ok: true });
        // a sync chain of hooks would have written the answer before send() returned
        process.nextTick(() => seen.push(`after send: ${reply.raw.headersSent}`));
        setImmediate(() => seen.push(`next turn: ${reply.raw.writableEnded}`));
      }),
    );
    const res = await fetch(base);
    expect(await res.json()).toEqual({ ok: true });
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['after send: false', 'next turn: true']);
  });

  it('gives each of many concurrent requests its own answer', async () => {
    const base = await listening((a) =>
      a.get('/n/:n', (request) => ({ n: (request.params as { n: string }).n })),
    );
    const ns = Array.from({ length: 40 }, (_, i) => String(i));
    const answers = await Promise.all(ns.map((n) => fetch(`${base}/n/${n}`).then((r) => r.json())));
    expect(answers).toEqual(ns.map((n) => ({ n })));
  });

  it('sends a throw on the way to the socket to the error handler, and keeps serving', async () => {
    const base = await listening((a) => {
      a.get('/breaks', { onSend: () => Promise.reject(new Error('no')) }, () => ({ ok: true }));
      a.get(
        '/throws',
        {
          onSend: (_request, _reply, _payload, done) => {
            done(null, 'x');
            throw new Error('after done');
          },
        },
        () => ({ ok: true }),
      );
      a.get(
        '/serializer-throws',
        {
          onSend: (_request, reply, _payload, done) => {
            // a header value Node refuses makes the write itself throw, inside the batch
            reply.header('x-bad', 'a\nb');
            done();
          },
        },
        () => ({ ok: true }),
      );
      a.get('/end-throws', (_request, reply) => {
        // the socket's write failing inside the batch, once
        const end = reply.raw.end.bind(reply.raw);
        let thrown = false;
        reply.raw.end = ((...args: Parameters<typeof end>) => {
          if (thrown) return end(...args);
          thrown = true;
          throw new Error('the write failed');
        }) as typeof end;
        return { ok: true };
      });
      a.get('/fine', () => ({ ok: true }));
    });
    expect((await fetch(`${base}/breaks`)).status).toBe(500);
    expect((await fetch(`${base}/serializer-throws`)).status).toBe(500);
    expect((await fetch(`${base}/throws`)).status).toBe(200);
    // Fastify answers what it still can, or closes the connection: no hang, no crash
    const failed = await fetch(`${base}/end-throws`).then(
      (r) => r.status,
      () => 'closed',
    );
    expect([500, 'closed']).toContain(failed);
    expect(await (await fetch(`${base}/fine`)).json()).toEqual({ ok: true });
  });
});
