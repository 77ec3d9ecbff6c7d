import { nonBlank as requireText, trimText } from '../../platform/text.js';
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

/** Blank text in a catalog field is a 400 `catalog.blank-field` on the field; see `nonBlank`. */
export const nonBlank = (value: string, field: string): string =>
  requireText(value, field, CatalogErrors.blankField);
