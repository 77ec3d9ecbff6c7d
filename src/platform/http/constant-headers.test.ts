import { IncomingMessage, type OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { connect, Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { constantHeadersResponse } from './constant-headers.js';
import { securityHeaders } from './security-headers.js';
import { createTestServer } from './test-support.js';

const security = securityHeaders().map(([name, value]) => [name.toLowerCase(), value] as const);
const Response = constantHeadersResponse(security);
if (!Response) throw new Error('this Node has no _storeHeader: the class is not used, nothing to test');

/** The header block Node builds for these headers, as a sorted list of lines without Date. */
function block(Class: typeof ServerResponse, headers: OutgoingHttpHeaders, raw: OutgoingHttpHeaders = {}) {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  const res = new Class(req);
  for (const [name, value] of Object.entries(raw)) if (value !== undefined) res.setHeader(name, value);
  res.writeHead(200, headers);
  const written = (res as unknown as { _header: string })._header;
  return written
    .split('\r\n')
    .filter((l) => l !== '' && !l.startsWith('Date: '))
    .sort();
}

const fastifyLike = (): OutgoingHttpHeaders => ({
  'x-request-id': 'b0c4a3a0-1f7e-4c55-9c55-0d1f6f1f2a11',
  ...Object.fromEntries(security),
  vary: 'Origin',
  'content-type': 'application/json; charset=utf-8',
  'content-length': '15',
});

describe('constant headers written as one block', () => {
  it('writes the same header lines as Node', () => {
    expect(block(Response, fastifyLike())).toEqual(block(ServerResponse, fastifyLike()));
    expect(
      block(Response, fastifyLike()).filter((l) => l.startsWith('content-security-policy: ')),
    ).toHaveLength(1);
  });

  it('writes a changed constant with its new value, once', () => {
    const headers = { ...fastifyLike(), 'content-security-policy': "default-src 'self'" };
    const lines = block(Response, headers);
    expect(lines).toEqual(block(ServerResponse, headers));
    expect(lines.filter((l) => l.startsWith('content-security-policy: '))).toEqual([
      "content-security-policy: default-src 'self'",
    ]);
  });

  it('leaves out a removed constant', () => {
    const headers = fastifyLike();
    delete headers['x-frame-options'];
    expect(block(Response, headers)).toEqual(block(ServerResponse, headers));
    expect(block(Response, headers).some((l) => l.startsWith('x-frame-options'))).toBe(false);
  });

  it('lets headers set on the raw response win as Node does', () => {
    const raw = { 'x-frame-options': 'DENY', 'x-other': '1' };
    expect(block(Response, fastifyLike(), raw)).toEqual(block(ServerResponse, fastifyLike(), raw));
  });

  it('still refuses a bad value in any other header, and in a changed constant', () => {
    expect(() => block(Response, { ...fastifyLike(), 'x-echo': 'a\r\nset-cookie: x=1' })).toThrow(
      /Invalid character/,
    );
    expect(() => block(Response, { ...fastifyLike(), 'x-frame-options': 'DENY\r\nx: y' })).toThrow(
      /Invalid character/,
    );
  });

  it('refuses a bad or Node-read constant at start-up', () => {
    expect(() => constantHeadersResponse([['x-bad', 'a\nb']])).toThrow();
    expect(() => constantHeadersResponse([['bad name', 'x']])).toThrow();
    expect(() => constantHeadersResponse([['connection', 'close']])).toThrow(/Node reads it/);
  });
});

describe('on the wire', () => {
  const app = createTestServer();
  afterAll(async () => (await app).close());

  /** The raw response head of one request, as header lines. */
  async function head(port: number, path: string): Promise<string[]> {
    const socket = connect(port, '127.0.0.1');
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    let text = '';
    for await (const chunk of socket) text += String(chunk);
    return (text.split('\r\n\r\n')[0] ?? '').split('\r\n').slice(1);
  }

  it('sends each security header once with its value, as inject sees them', async () => {
    const server = await app;
    await server.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.server.address() as { port: number };
    const lines = await head(port, '/healthz');
    const injected = await server.inject({ url: '/healthz' });
    for (const [name, value] of security) {
      expect(lines.filter((l) => l.toLowerCase().startsWith(`${name}:`))).toEqual([`${name}: ${value}`]);
      expect(injected.headers[name]).toBe(value);
    }
    const names = (ls: string[]) => ls.map((l) => l.slice(0, l.indexOf(':')).toLowerCase()).sort();
    expect(names(lines)).toEqual(names(Object.keys(injected.headers).map((n) => `${n}: x`)));
  });
});
