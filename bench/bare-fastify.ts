// The baseline: Fastify with nothing on it, on the same machine in the same run.
//
// With BARE_VARIANT=headers it is the reference row instead: the same hello-world with only the
// headers every Lectern response carries (helmet's, CORS, the request id), set by Lectern's own
// edge hook, which also writes answers as Lectern does (together at the end of the event loop's
// turn). What that row loses against the baseline is what those headers cost; no route of
// Lectern can beat it, so it is the ceiling of every "× bare" goal short of dropping headers.
// With BARE_BODY_FILE as well, it answers that file's bytes as JSON, read once at start: the
// ceiling of a route whose answers are those bytes. Writing them, and the load generator reading
// them on the same cores, cost what they cost whatever the route did before; autocannon decodes
// every body into a string, which costs it far more for Chinese text than for ASCII.
import { readFileSync } from 'node:fs';
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

const app = process.env.BARE_VARIANT === 'headers' ? await withLecternHeaders() : Fastify({ logger: false });
const bodyFile = process.env.BARE_BODY_FILE;
if (bodyFile) {
  const body = readFileSync(bodyFile);
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
