import { describe, expect, it } from 'vitest';
import { badTextReason } from './text-guard.js';

/** The rule spelled out one code unit at a time: what badTextReason must answer. */
function reference(text: string, multiLine: boolean): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) {
      if (multiLine && (c === 0x09 || c === 0x0a || c === 0x0d)) continue;
      return 'must not contain control characters';
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return 'must be valid Unicode (no lone surrogates)';
    }
  }
  return undefined;
}

describe('badTextReason', () => {
  const texts = [
    '',
    'plain text',
    'Bearer eyJhbGciOiJFZERTQSJ9.e30.sig',
    '编程 😀 café',
    'a\tb',
    'a\nb\r\n',
    'a\u0000b',
    'a\u001fb',
    'a\u007fb',
    'a\u0080b',
    '\ud83d\ude00',
    '\ud83d',
    'x\ude00',
    '\ude00\ud83d',
    '\ud83d\ud83d\ude00',
    'end\ud83d',
    '\u00a0\u2028\ufeff',
  ];

  it('answers as the rule does, on one line and on several', () => {
    for (const text of texts) {
      for (const multiLine of [false, true]) {
        expect([text, multiLine, badTextReason(text, multiLine)]).toEqual([
          text,
          multiLine,
          reference(text, multiLine),
        ]);
      }
    }
  });

  it('answers as the rule does for every single code unit in a long text', () => {
    const long = 'x'.repeat(600);
    for (let c = 0; c <= 0xffff; c++) {
      const text = `${long}${String.fromCharCode(c)}${long}`;
      if (badTextReason(text, false) !== reference(text, false)) expect(c.toString(16)).toBe('fine');
      if (badTextReason(text, true) !== reference(text, true)) expect(c.toString(16)).toBe('fine');
    }
  });
});
