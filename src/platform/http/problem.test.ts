import { describe, expect, it } from 'vitest';
import { problem } from './problem.js';

describe('problem titles', () => {
  it('uses the standard reason phrase of any status, not only a listed few', () => {
    expect(problem(402, 'x').title).toBe('Payment Required');
    expect(problem(418, 'x').title).toBe("I'm a Teapot");
    expect(problem(502, 'x').title).toBe('Bad Gateway');
  });

  it('uses the RFC 9110 names where Node still has the old ones', () => {
    expect(problem(413, 'x').title).toBe('Content Too Large');
    expect(problem(422, 'x').title).toBe('Unprocessable Content');
  });

  it('falls back to "Error" for a status without a phrase', () => {
    expect(problem(499, 'x').title).toBe('Error');
  });
});
