import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { bearerToken } from './auth.js';

/** What the guard accepted before it parsed without a case-insensitive regexp: the reference. */
function reference(header: string): string {
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
  return match?.[1] ?? 'refused';
}

function parsed(header: string): string {
  try {
    return bearerToken({ headers: { authorization: header } } as unknown as FastifyRequest) ?? 'refused';
  } catch {
    return 'refused';
  }
}

describe('bearerToken', () => {
  const headers = [
    'Bearer abc.DEF-ghi_~+/9',
    'bearer abc',
    'BEARER abc==',
    'BeArEr a=',
    '  Bearer abc  ',
    'Bearer  abc',
    'Bearer\tabc',
    'Bearer\0abc',
    'Bearer',
    'Bearer ',
    'Bearer =',
    'Bearer a=b',
    'Bearer a b',
    'Bearer a\n',
    'Bearer a\u017f',
    '\u017fBearer a',
    'Beare\u0280 a',
    'Basic YTpi',
    'xBearer a',
    'Bearer a===',
    'Bearer a%2F',
    'Bearer é',
  ];

  it('accepts and refuses exactly what RFC 6750 /^Bearer b64token$/i does', () => {
    for (const header of headers) expect([header, parsed(header)]).toEqual([header, reference(header)]);
  });

  it('treats a missing header as no credentials', () => {
    expect(bearerToken({ headers: {} } as unknown as FastifyRequest)).toBeUndefined();
  });
});
