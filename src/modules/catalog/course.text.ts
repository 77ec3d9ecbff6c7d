import { AppError } from '../../platform/errors.js';
import { CatalogErrors } from './catalog.errors.js';

/** Tags are compared case-insensitively and without stray spaces: "Python " and "python" are one tag. */
export function normaliseTags(tags: string[]): string[] {
  const out = tags
    .map((t) => trimText(t.normalize('NFKC')).replace(/\s+/g, ' ').toLowerCase())
    .filter((t) => t.length > 0);
  return [...new Set(out)];
}

/** BCP 47 casing: language lower, script title, region upper ("zh-hans-cn" → "zh-Hans-CN"). */
export function canonicalLanguage(tag: string): string {
  return tag
    .split('-')
    .map((part, i) => {
      if (i === 0) return part.toLowerCase();
      if (part.length === 4) return `${part.slice(0, 1).toUpperCase()}${part.slice(1).toLowerCase()}`;
      if (part.length === 2) return part.toUpperCase();
      return part.toLowerCase();
    })
    .join('-');
}

/**
 * What counts as nothing in text: Unicode white space plus the default-ignorable characters that
 * render as nothing (ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen, Hangul fillers, variation
 * selectors…). `String.prototype.trim` knows the first set only, so "\u200B" passed as a title.
 */
const INVISIBLE = '[\\p{White_Space}\\p{Default_Ignorable_Code_Point}]';
const EDGES = new RegExp(`^${INVISIBLE}+|${INVISIBLE}+$`, 'gu');

/** The text without invisible characters at either end; inner ones (a ZWJ inside an emoji) stay. */
export function trimText(value: string): string {
  return value.replace(EDGES, '');
}

/**
 * The trimmed value of a required text field; blank text is the client's mistake, reported on
 * the field (`field` is its JSON pointer below the body, e.g. `title` or `price/currency`).
 */
export function nonBlank(value: string, field: string): string {
  const trimmed = trimText(value);
  if (trimmed.length === 0) {
    throw AppError.validation(CatalogErrors.blankField, `${field} cannot be blank.`, [
      { field: `/body/${field}`, message: 'must not be blank' },
    ]);
  }
  return trimmed;
}
