// The baseline: Fastify with nothing on it, on the same machine in the same run.
import Fastify from 'fastify';
import { childControl, fatal } from './child.js';

const app = Fastify({ logger: false });
app.get('/', () => ({ hello: 'world' }));

const control = childControl({ stop: () => app.close() });

try {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  control.ready({ port: address.port, scenarios: [] });
} catch (err) {
  fatal(err);
}
