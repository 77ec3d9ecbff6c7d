import { readFileSync } from 'node:fs';
import AhoCorasick from 'modern-ahocorasick';
import { SENSITIVE_WORDS_EN, SENSITIVE_WORDS_ZH } from './sensitive-words.data.js';
import { matchForm } from './text.js';

export interface SensitiveWords {
  /** The first listed word the text contains (after normalising both), or undefined. */
  firstMatch(text: string): string | undefined;
  size: number;
}

/** Words from a file of one word per line; blank lines and `#` comments are skipped. */
export function readWordFile(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
}

/**
 * One Aho–Corasick automaton over every list, so a text is scanned once whatever the number of
 * words. Both the words and the text go through `matchForm`, so "ＦＲＥＥ Crypto" (full-width letters) finds "free crypto".
 */
export function createSensitiveWords(extra: readonly string[] = []): SensitiveWords {
  const words = [...new Set([...SENSITIVE_WORDS_ZH, ...SENSITIVE_WORDS_EN, ...extra].map(matchForm))].filter(
    (w) => w.length > 0,
  );
  const matcher = new AhoCorasick(words);
  return {
    size: words.length,
    firstMatch: (text) => matcher.findFirst(matchForm(text))?.pattern,
  };
}
