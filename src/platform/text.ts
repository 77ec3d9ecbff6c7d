import { AppError } from './errors.js';

/**
 * What counts as nothing in text: Unicode white space plus the default-ignorable characters that
 * render as nothing (ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen, Hangul fillers, variation
 * selectors…). `String.prototype.trim` knows the first set only, so "\u200B" would pass as text.
 * Control characters and lone surrogates are refused earlier, at the edge (`http/text-guard.ts`).
 */
const INVISIBLE = '[\\p{White_Space}\\p{Default_Ignorable_Code_Point}]';
const EDGES = new RegExp(`^${INVISIBLE}+|${INVISIBLE}+$`, 'gu');
const ALL_INVISIBLE = new RegExp(`${INVISIBLE}+`, 'gu');

/** The text without invisible characters at either end; inner ones (a ZWJ inside an emoji) stay. */
export function trimText(value: string): string {
  return value.replace(EDGES, '');
}

/**
 * The trimmed value of a required text field. Blank text is the client's mistake, reported on
 * the field as a 400 with the module's own stable `code` (`field` is its JSON pointer below the
 * body, e.g. `title` or `price/currency`).
 */
export function nonBlank(value: string, field: string, code: string): string {
  const trimmed = trimText(value);
  if (trimmed.length === 0) {
    throw AppError.validation(code, `${field} cannot be blank.`, [
      { field: `/body/${field}`, message: 'must not be blank' },
    ]);
  }
  return trimmed;
}

/**
 * The form in which two texts are compared for matching (word lists, @mentions): NFKC (full
 * width → half width), lower case, no white space or invisible characters, so "ＦＲＥＥ Crypto"
 * and "free\u200Bcrypto" both become "freecrypto".
 */
export function matchForm(value: string): string {
  return value.normalize('NFKC').toLowerCase().replace(ALL_INVISIBLE, '');
}

// one segmenter for every call: it holds no state between segment() calls, and making one costs
// more than segmenting a short text
const graphemeSegmenter = new Intl.Segmenter();

/** The start of a text, at most `max` graphemes, cut between graphemes (never inside an emoji). */
export function excerpt(value: string, max = 200): string {
  const graphemes = Array.from(graphemeSegmenter.segment(value), (s) => s.segment);
  return graphemes.length <= max ? value : `${graphemes.slice(0, max - 1).join('')}…`;
}
