import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { excerpt, matchForm, nonBlank, trimText } from './text.js';

describe('platform text helpers', () => {
  it('trims white space and invisible characters at the edges only', () => {
    expect(trimText('\u200B\u00A0 hello\u200Dworld \uFEFF')).toBe('hello\u200Dworld');
  });

  it('nonBlank answers the trimmed text, or a 400 with the caller’s code on the field', () => {
    expect(nonBlank('  ok ', 'title', 'x.blank')).toBe('ok');
    let thrown: unknown;
    try {
      nonBlank('\u200B \u3000', 'body', 'community.blank-field');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({
      code: 'community.blank-field',
      details: { fields: [{ field: '/body/body', message: 'must not be blank' }] },
    });
  });

  it('matchForm folds width, case and invisible characters', () => {
    expect(matchForm('ＦＲＥＥ Crypto')).toBe('freecrypto');
    expect(matchForm('free\u200Bcrypto')).toBe('freecrypto');
  });

  it('excerpt cuts between graphemes and marks the cut', () => {
    expect(excerpt('short', 10)).toBe('short');
    const family = '👨‍👩‍👧';
    expect(excerpt(`ab${family}cd`, 4)).toBe(`ab${family}…`);
  });
});
