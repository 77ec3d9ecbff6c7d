import { AppError } from '../../platform/errors.js';
import { CatalogErrors } from './catalog.errors.js';

/** Tags are compared case-insensitively and without stray spaces: "Python " and "python" are one tag. */
export function normaliseTags(tags: string[]): string[] {
  const out = tags
    .map((t) => t.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase())
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

/** The trimmed value; a blank one is the client's mistake, reported on the field. */
export function nonBlank(value: string, field: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) {
    throw AppError.validation(CatalogErrors.blankField, `${field} cannot be blank.`, [
      { field: `/body/${field}`, message: 'must not be blank' },
    ]);
  }
  return trimmed;
}
