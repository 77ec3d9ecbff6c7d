import { createServer } from 'node:net';

/**
 * A port free right now on 127.0.0.1: an app configured with its own public URL (or the sandbox's
 * notify URL) before it listens, or, left unused, a port nothing answers on.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}
