// The baseline: Fastify with nothing on it, on the same machine in the same run.
//
// With BARE_VARIANT=headers it is the reference row instead: the same hello-world with only the
// headers every Lectern response carries (helmet's, CORS, the request id), set by Lectern's own
// edge hook. What that row loses against the baseline is what those headers cost; no route of
// Lectern can beat it, so it is the ceiling of every "× bare" goal short of dropping headers.
// With BARE_BODY_BYTES=N as well, it answers a JSON body of N bytes, serialised once at start:
// the ceiling of a route whose answers are that size (the bytes still have to be written, and
// read by the load generator on the same machine).
import Fastify, { type FastifyInstance } from 'fastify';
import { childControl, fatal } from './child.js';

// imported only for the reference row, so the baseline's process loads nothing of Lectern
async function withLecternHeaders(): Promise<FastifyInstance> {
  const { loadConfig } = await import('../src/platform/config.js');
  const { addEdgeHook, corsOptionsOf, requestIdOf } = await import('../src/platform/http/server.js');
  const app = Fastify({ logger: false, genReqId: requestIdOf });
  addEdgeHook(app, corsOptionsOf(loadConfig().corsOrigins));
  return app;
}

/** A JSON object of exactly `bytes` bytes (at least 13), padded in one string field. */
function jsonBodyOf(bytes: number): Buffer {
  const shell = '{"padding":""}';
  return Buffer.from(`{"padding":"${'x'.repeat(Math.max(0, bytes - shell.length))}"}`);
}

const app = process.env.BARE_VARIANT === 'headers' ? await withLecternHeaders() : Fastify({ logger: false });
const bodyBytes = Number(process.env.BARE_BODY_BYTES ?? '0');
if (bodyBytes > 0) {
  const body = jsonBodyOf(bodyBytes);
  app.get('/', (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
} else {
  app.get('/', () => ({ hello: 'world' }));
}

const control = childControl({ stop: () => app.close() });

try {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  control.ready({ port: address.port, scenarios: [] });
} catch (err) {
  fatal(err);
}
