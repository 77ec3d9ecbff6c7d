import { AppError } from '../../platform/errors.js';
import { CommunityErrors } from './community.errors.js';

/**
 * White space and the default-ignorable characters that render as nothing (ZWSP, ZWJ, BOM, soft
 * hyphen…), as the catalog counts them: "\u200B" alone is blank text, not a review.
 */
const INVISIBLE = '[\\p{White_Space}\\p{Default_Ignorable_Code_Point}]';
const EDGES = new RegExp(`^${INVISIBLE}+|${INVISIBLE}+$`, 'gu');
const ALL_INVISIBLE = new RegExp(`${INVISIBLE}+`, 'gu');

/**
 * The text as stored: trimmed of invisible edges, never HTML-processed (it is plain text and
 * goes back as the same string in JSON). Control characters and lone surrogates were refused at
 * the edge by the platform; blank text is refused here, on the field.
 */
export function plainText(value: string, field: string): string {
  const trimmed = value.replace(EDGES, '');
  if (trimmed.length === 0) {
    throw AppError.validation(CommunityErrors.blankField, `${field} cannot be blank.`, [
      { field: `/body/${field}`, message: 'must not be blank' },
    ]);
  }
  return trimmed;
}

/** The form word lists and mentions compare: NFKC (full width → half width), lower case, no invisible characters. */
export function matchForm(value: string): string {
  return value.normalize('NFKC').toLowerCase().replace(ALL_INVISIBLE, '');
}

/** The start of a text for an event or a notice, cut between graphemes (never inside an emoji). */
export function excerpt(value: string, max = 200): string {
  const points = Array.from(new Intl.Segmenter().segment(value), (s) => s.segment);
  return points.length <= max ? value : `${points.slice(0, max - 1).join('')}…`;
}
