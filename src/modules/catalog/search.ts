/**
 * Search text handling shared by indexing and querying, with no database in it.
 *
 * PostgreSQL's text-search parser splits by locale and knows no Chinese, and zhparser is not
 * available in PGlite, so tokens are made here: Latin-script words as they are, and CJK runs as
 * overlapping character bigrams plus single characters (the Lucene CJK approach). The tokens
 * become a tsvector literal and a tsquery literal, which PostgreSQL reads without parsing, so
 * the result is the same on any server, locale or PGlite.
 */
import { Converter } from 'opencc-js/t2cn';

const CJK = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}';
// a CJK run, or a word of other letters/digits (C++ and C# keep their suffix)
const TOKEN = new RegExp(`([${CJK}]+)|((?:(?![${CJK}])[\\p{L}\\p{N}\\p{M}])+[+#]*)`, 'gu');

const MAX_WORD = 60;
const MAX_POSITION = 16383;
const MAX_POSITIONS_PER_LEXEME = 255;
/** Query groups beyond this are ignored: a long paste should not become a huge tsquery. */
export const MAX_QUERY_TERMS = 12;
const MAX_BIGRAMS_PER_TERM = 16;

/**
 * Traditional Chinese to Simplified, character by character plus OpenCC's phrase table (`from: 't'`,
 * not the Taiwan vocabulary presets, which rewrite 程式設計 as 编程 and change text lengths):
 * documents and queries both pass through it, so 爬蟲 and 爬虫 are one word to search. opencc-js is
 * the maintained JavaScript build of OpenCC's dictionaries; a hand-made table would miss most of them.
 */
// opencc-js's types import './core' without an extension, which NodeNext cannot resolve, so the
// converter's type is lost; this is its documented shape
const makeConverter = Converter as unknown as (options: { from: 't'; to: 'cn' }) => (text: string) => string;
const toSimplified = makeConverter({ from: 't', to: 'cn' });

export function normalise(text: string): string {
  return toSimplified(text.normalize('NFKC')).toLowerCase();
}

interface Run {
  text: string;
  cjk: boolean;
}

function runs(text: string): Run[] {
  const out: Run[] = [];
  for (const m of normalise(text).matchAll(TOKEN)) {
    if (m[1]) out.push({ text: m[1], cjk: true });
    else if (m[2]) out.push({ text: m[2].slice(0, MAX_WORD), cjk: false });
  }
  return out;
}

/** Tokens of a document, in order: words, and for CJK each character and each bigram. */
export function documentTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const run of runs(text)) {
    if (!run.cjk) {
      tokens.push(run.text);
      continue;
    }
    const chars = Array.from(run.text);
    chars.forEach((ch, i) => {
      tokens.push(ch);
      const next = chars[i + 1];
      if (next !== undefined) tokens.push(ch + next);
    });
  }
  return tokens;
}

/** Latin-script words worth remembering for typo correction. */
export function lexiconWords(text: string): string[] {
  return runs(text)
    .filter((r) => !r.cjk && /^[a-z][a-z0-9+#]{2,}$/.test(r.text))
    .map((r) => r.text);
}

export interface QueryTerm {
  /** What the user typed for this term (a word, or a CJK run). */
  text: string;
  cjk: boolean;
  /** Lexemes that must all match: a word, or the bigrams of a CJK run. */
  lexemes: string[];
}

export function queryTerms(q: string): QueryTerm[] {
  const terms: QueryTerm[] = [];
  for (const run of runs(q)) {
    if (run.cjk) {
      const chars = Array.from(run.text);
      const lexemes =
        chars.length === 1 ? chars : chars.slice(0, -1).map((ch, i) => ch + (chars[i + 1] ?? ''));
      // a pasted paragraph should not become hundreds of ANDed bigrams
      terms.push({
        text: run.text,
        cjk: true,
        lexemes: [...new Set(lexemes)].slice(0, MAX_BIGRAMS_PER_TERM),
      });
    } else {
      terms.push({ text: run.text, cjk: false, lexemes: [run.text] });
    }
    if (terms.length >= MAX_QUERY_TERMS) break;
  }
  return terms;
}

const quote = (lexeme: string) => `'${lexeme.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

export type Weight = 'A' | 'B' | 'C' | 'D';

/** A tsvector literal: title fields weigh A, tags and names B, the description C. */
export function buildTsvector(fields: { text: string; weight: Weight }[]): string {
  const positions = new Map<string, string[]>();
  let position = 0;
  for (const field of fields) {
    for (const token of documentTokens(field.text)) {
      position = Math.min(position + 1, MAX_POSITION);
      const list = positions.get(token) ?? [];
      if (list.length < MAX_POSITIONS_PER_LEXEME) list.push(`${position}${field.weight}`);
      positions.set(token, list);
    }
  }
  return [...positions].map(([lexeme, list]) => `${quote(lexeme)}:${list.join(',')}`).join(' ');
}

/**
 * A tsquery literal: every term must match; a Latin word matches as a prefix (search as you
 * type) or as one of its spelling corrections; a CJK run matches when all its bigrams do.
 */
export function buildTsquery(
  terms: QueryTerm[],
  corrections: Map<string, string[]> = new Map(),
): string | undefined {
  const groups = terms.map((term) => {
    if (term.cjk) return term.lexemes.map(quote).join(' & ');
    const alternatives = [`${quote(term.text)}:*`, ...(corrections.get(term.text) ?? []).map(quote)];
    return alternatives.length === 1 ? alternatives[0] : `( ${alternatives.join(' | ')} )`;
  });
  return groups.length === 0 ? undefined : groups.map((g) => `( ${g} )`).join(' & ');
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("pyhton"). */
export function editDistance(a: string, b: string): number {
  const s = Array.from(a);
  const t = Array.from(b);
  const rows: number[][] = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1])
        d = Math.min(d, at(i - 2, j - 2) + 1);
      const row = rows[i];
      if (row) row[j] = d;
    }
  }
  return at(s.length, t.length);
}

/** How many edits a word of this length may carry and still count as a typo of another. */
export const allowedEdits = (word: string): number => (Array.from(word).length <= 4 ? 1 : 2);

export interface Needle {
  text: string;
  /** Latin words match at the start of a word only; CJK anywhere. */
  wordStart: boolean;
}

/** What to mark in results: the CJK bigrams (or single characters) and the words and corrections. */
export function highlightNeedles(
  terms: QueryTerm[],
  corrections: Map<string, string[]> = new Map(),
): Needle[] {
  const needles: Needle[] = [];
  for (const term of terms) {
    if (term.cjk) for (const l of term.lexemes) needles.push({ text: l, wordStart: false });
    else {
      needles.push({ text: term.text, wordStart: true });
      for (const c of corrections.get(term.text) ?? []) needles.push({ text: c, wordStart: true });
    }
  }
  return needles;
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

// a Latin word ends where a CJK run starts: "Python编程" is the word "python" then 编程
const WORD_CHAR = new RegExp(`(?![${CJK}])[\\p{L}\\p{N}]`, 'u');

function matchRanges(text: string, needles: Needle[]): [number, number][] {
  const lower = normalise(text);
  // a normalised string of another length would shift every offset: mark nothing then
  if (lower.length !== text.length) return [];
  const ranges: [number, number][] = [];
  for (const needle of needles) {
    const n = normalise(needle.text);
    if (n.length === 0) continue;
    for (let at = lower.indexOf(n); at !== -1; at = lower.indexOf(n, at + 1)) {
      if (needle.wordStart && at > 0 && WORD_CHAR.test(lower[at - 1] ?? '')) continue;
      let end = at + n.length;
      // a prefix match marks the whole word ("pyth" marks "Python")
      if (needle.wordStart) while (end < lower.length && WORD_CHAR.test(lower[end] ?? '')) end++;
      ranges.push([at, end]);
    }
  }
  ranges.sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** HTML-escaped text with matches wrapped in <mark>; safe to insert as HTML. */
export function highlight(text: string, needles: Needle[]): string {
  let out = '';
  let cursor = 0;
  for (const [start, end] of matchRanges(text, needles)) {
    out += `${escapeHtml(text.slice(cursor, start))}<mark>${escapeHtml(text.slice(start, end))}</mark>`;
    cursor = end;
  }
  return out + escapeHtml(text.slice(cursor));
}

/** A window of `text` around its first match, highlighted; undefined when nothing matches. */
export function snippet(text: string, needles: Needle[], width = 120): string | undefined {
  const first = matchRanges(text, needles)[0];
  if (!first) return undefined;
  const start = Math.max(0, first[0] - Math.floor(width / 3));
  const end = Math.min(text.length, start + width);
  const piece = text.slice(start, end);
  return `${start > 0 ? '…' : ''}${highlight(piece, needles)}${end < text.length ? '…' : ''}`;
}

/** Markdown to plain text, well enough for indexing and snippets (never rendered). */
export function markdownToText(markdown: string): string {
  return markdown
    .replace(/```[^\n]*\n?/g, ' ')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]*>/g, ' ')
    .replace(/^\s{0,3}(#{1,6}|>|[-*+]|\d+\.)\s+/gm, '')
    .replace(/[*_~`|]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Reading time of an article lesson: ~300 CJK characters or ~200 English words a minute. */
export function readingSeconds(markdown: string): number {
  const text = markdownToText(markdown);
  const cjk = (text.match(new RegExp(`[${CJK}]`, 'gu')) ?? []).length;
  const words = runs(text).filter((r) => !r.cjk).length;
  return Math.max(60, Math.round((cjk / 300 + words / 200) * 60));
}
