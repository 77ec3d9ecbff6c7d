import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import { AppError } from '../../platform/errors.js';
import { randomToken } from './crypto.js';
import { PasswordErrors } from './identity.errors.js';

/**
 * OWASP Password Storage Cheat Sheet, argon2id: m=19456 KiB, t=2, p=1. `algorithm: 2` is
 * Argon2id; the package's const enum cannot be referenced under isolatedModules.
 */
export const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

// NIST SP 800-63B §5.1.1.2: normalise Unicode so the same password typed on two keyboards matches
const normalise = (password: string) => password.normalize('NFKC');

/**
 * Each argon2 hash or verification holds `memoryCost` (19 MiB) on a libuv thread while it runs,
 * and the pool has 4 threads (`UV_THREADPOOL_SIZE`) whatever the CPUs: on 2 CPUs the 3rd and 4th
 * hash only wait for a core while holding their memory, and leave no thread for file and DNS
 * work. So hashes take a slot first; past the slots they wait here, in arrival order, at the cost
 * of a closure each.
 */
let slots = availableParallelism();
let running = 0;
const waiting: (() => void)[] = [];

/** How many argon2 hashes and verifications may run at once (default: the CPU count). */
export function setPasswordHashConcurrency(size: number): void {
  if (!Number.isInteger(size) || size < 1) throw new Error(`expected a whole number ≥ 1, got ${size}`);
  slots = size;
  while (running < slots && waiting.length > 0) start();
}

/** Argon2 work running and waiting for a slot now (for tests and diagnostics). */
export const passwordHashLoad = (): { running: number; waiting: number } => ({
  running,
  waiting: waiting.length,
});

function start(): void {
  running++;
  waiting.shift()?.();
}

async function inSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running < slots) running++;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await work();
  } finally {
    running--;
    // the slot passes to the next in line, if any
    if (running < slots && waiting.length > 0) start();
  }
}

export function hashPassword(password: string): Promise<string> {
  const value = normalise(password);
  return inSlot(() => hash(value, ARGON2_OPTIONS));
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const value = normalise(password);
  try {
    return await inSlot(() => verify(stored, value));
  } catch {
    return false;
  }
}

/** True when `stored` was made with other parameters than today's; rehash on the next login. */
export function needsRehash(stored: string): boolean {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
  return (
    !match ||
    Number(match[1]) !== ARGON2_OPTIONS.memoryCost ||
    Number(match[2]) !== ARGON2_OPTIONS.timeCost ||
    Number(match[3]) !== ARGON2_OPTIONS.parallelism
  );
}

let dummyHash: Promise<string> | undefined;

/** Compute the dummy hash ahead of the first login, which would otherwise pay for it twice. */
export function prepareDummyHash(): Promise<string> {
  dummyHash ??= hashPassword(randomToken());
  return dummyHash;
}

/**
 * Spend the time a real verification would when there is no account, so "no such user" and
 * "wrong password" cannot be told apart by timing.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  await verifyPassword(await prepareDummyHash(), password);
  return false;
}

let common: Set<string> | undefined;

/**
 * The zxcvbn-ts common-password list (≈49k entries from breach corpora), shipped with the
 * package. Only entries that could pass the length rule matter.
 */
function commonPasswords(): Set<string> {
  common ??= new Set(dictionary['passwords-common'].filter((p) => p.length >= PASSWORD_MIN_LENGTH));
  return common;
}

/**
 * NIST SP 800-63B rules: length 8–128 (code points), not on a breached/common list, not built
 * from the account's own email. No composition rules: they push people to predictable patterns.
 */
export function checkPasswordPolicy(password: string, context: { email: string; field: string }): void {
  const value = normalise(password);
  // code points, not UTF-16 units: an emoji is one character to the person typing it
  const length = Array.from(value).length;
  const refuse = (code: string, message: string) =>
    AppError.validation(code, message, [{ field: context.field, message }]);
  if (length < PASSWORD_MIN_LENGTH) {
    throw refuse(
      PasswordErrors.tooShort,
      `The password must have at least ${PASSWORD_MIN_LENGTH} characters.`,
    );
  }
  if (length > PASSWORD_MAX_LENGTH) {
    throw refuse(PasswordErrors.tooLong, `The password must have at most ${PASSWORD_MAX_LENGTH} characters.`);
  }
  const lower = value.toLowerCase();
  if (commonPasswords().has(lower)) {
    throw refuse(
      PasswordErrors.tooCommon,
      'This password is too common; it appears in lists attackers try first.',
    );
  }
  const local = context.email.split('@')[0] ?? '';
  if (lower === context.email || (local.length >= 4 && lower.includes(local))) {
    throw refuse(PasswordErrors.containsEmail, 'The password must not contain your email address.');
  }
}
