import { AppError } from './errors.js';

/**
 * An amount of money: an integer number of the currency's minor units (fen, cents; yen for JPY,
 * fils for KWD) plus its ISO 4217 code. Never a float of major units.
 */
export interface Money {
  readonly amount: number;
  readonly currency: string;
}

export const MoneyErrors = {
  invalidCurrency: 'money.invalid-currency',
  invalidAmount: 'money.invalid-amount',
  negativeAmount: 'money.negative-amount',
  currencyMismatch: 'money.currency-mismatch',
  invalidDecimal: 'money.invalid-decimal',
  invalidRatio: 'money.invalid-ratio',
} as const;

/** A money rule broken; a validation error, so input a client sent becomes a 400, never a 500. */
export class MoneyError extends AppError {
  constructor(code: (typeof MoneyErrors)[keyof typeof MoneyErrors], message: string) {
    super('validation', code, message);
    this.name = 'MoneyError';
  }
}

/**
 * The currencies we accept: the ISO 4217 codes Node's ICU knows (`Intl.supportedValuesOf`),
 * chosen over a package because it ships with the runtime that formats the amounts, so every
 * accepted code also formats. ICU lists only codes in circulation (no funds codes such as CLF):
 * XXX ("no currency"), XTS (testing), precious metals (XAU) and unassigned codes such as ABC are
 * not in it, so they are refused.
 */
const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/**
 * ISO 4217 minor-unit exponents where CLDR (which Intl follows) differs: CLDR lists what people
 * write on price tags (0 for IQD, IRR, LAK…), ISO what payment systems and banks settle in.
 * Providers follow ISO, so amounts do too.
 */
const ISO_EXPONENT_OVERRIDES: Readonly<Record<string, number>> = {
  AFN: 2,
  ALL: 2,
  IQD: 3,
  IRR: 2,
  KPW: 2,
  LAK: 2,
  LBP: 2,
  MGA: 2,
  MMK: 2,
  RSD: 2,
  SOS: 2,
  SYP: 2,
  YER: 2,
};

const exponentCache = new Map<string, number>();

export function isCurrency(code: string): boolean {
  return CURRENCIES.has(code);
}

export function assertCurrency(code: string): void {
  if (!isCurrency(code)) {
    throw new MoneyError(MoneyErrors.invalidCurrency, `${JSON.stringify(code)} is not an ISO 4217 currency.`);
  }
}

/** Digits after the decimal point in the currency's major unit: JPY 0, CNY 2, KWD 3. */
export function minorUnitExponent(currency: string): number {
  assertCurrency(currency);
  const cached = exponentCache.get(currency);
  if (cached !== undefined) return cached;
  const exponent =
    ISO_EXPONENT_OVERRIDES[currency] ??
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
    2;
  exponentCache.set(currency, exponent);
  return exponent;
}

function checkAmount(amount: number): void {
  if (!Number.isSafeInteger(amount)) {
    throw new MoneyError(
      MoneyErrors.invalidAmount,
      `Amount ${amount} is not a whole number of minor units within the safe integer range.`,
    );
  }
}

/** A price or any amount that cannot be below zero (the usual case): refuses negatives. */
export function money(amount: number, currency: string): Money {
  checkAmount(amount);
  if (amount < 0) throw new MoneyError(MoneyErrors.negativeAmount, `Amount ${amount} is negative.`);
  assertCurrency(currency);
  return Object.freeze({ amount: amount === 0 ? 0 : amount, currency });
}

/** An amount that may be negative (a balance, an adjustment, a difference). */
export function signedMoney(amount: number, currency: string): Money {
  checkAmount(amount);
  assertCurrency(currency);
  // -0 would print as "-0.00"
  return Object.freeze({ amount: amount === 0 ? 0 : amount, currency });
}

export const zero = (currency: string): Money => money(0, currency);

function sameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw new MoneyError(
      MoneyErrors.currencyMismatch,
      `Cannot combine ${a.currency} with ${b.currency}; convert first.`,
    );
  }
}

export function add(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return signedMoney(a.amount + b.amount, a.currency);
}

/** May go below zero; pass the result to `money()` again where a negative is not allowed. */
export function subtract(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return signedMoney(a.amount - b.amount, a.currency);
}

/** -1, 0 or 1, for sorting; throws on mixed currencies (they have no order without a rate). */
export function compare(a: Money, b: Money): -1 | 0 | 1 {
  sameCurrency(a, b);
  return a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0;
}

export const equals = (a: Money, b: Money): boolean => compare(a, b) === 0;
export const isZero = (m: Money): boolean => m.amount === 0;

/**
 * How a fraction of a minor unit is rounded. `half-up`: halves away from zero (1.5 → 2,
 * -1.5 → -2), the rule on receipts and in provider fee statements. `half-even`: halves to the
 * even neighbour (banker's rounding, no drift over many sums). `down`: toward zero (never charge
 * a fraction the customer did not owe).
 */
export type Rounding = 'half-up' | 'half-even' | 'down';

function divideRounded(numerator: bigint, denominator: bigint, rounding: Rounding): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  let q = n / d;
  const r = n % d;
  if (rounding !== 'down') {
    const twice = r * 2n;
    if (twice > d || (twice === d && (rounding === 'half-up' || q % 2n === 1n))) q += 1n;
  }
  return negative ? -q : q;
}

/**
 * `percent` per cent of `m` (e.g. a 30 % platform fee, a 12.5 % discount), rounded to whole
 * minor units by `rounding` (default `half-up`). Up to two decimals of percent are exact
 * (basis points); more are refused rather than silently rounded.
 */
export function percentage(m: Money, percent: number, rounding: Rounding = 'half-up'): Money {
  const basisPoints = Math.round(percent * 100);
  if (!Number.isFinite(percent) || Math.abs(basisPoints - percent * 100) > 1e-6) {
    throw new MoneyError(MoneyErrors.invalidRatio, `Percentage ${percent} has more than two decimals.`);
  }
  const result = divideRounded(BigInt(m.amount) * BigInt(basisPoints), 10_000n, rounding);
  return signedMoney(Number(result), m.currency);
}

/**
 * Split `m` in proportion to `ratios` (whole numbers ≥ 0, not all zero) so that the parts add up
 * to exactly `m`: each part gets its rounded-down share, then the minor units left over go one
 * each to the parts with the largest remainders (ties to the earlier part). E.g. 100 fen by
 * [70, 30] → 70 and 30; 100 fen by [1, 1, 1] → 34, 33, 33.
 */
export function allocate(m: Money, ratios: readonly number[]): Money[] {
  if (
    ratios.length === 0 ||
    ratios.some((r) => !Number.isSafeInteger(r) || r < 0) ||
    ratios.every((r) => r === 0)
  ) {
    throw new MoneyError(
      MoneyErrors.invalidRatio,
      'Ratios must be whole numbers ≥ 0 with at least one above zero.',
    );
  }
  const total = ratios.reduce((s, r) => s + BigInt(r), 0n);
  const sign = m.amount < 0 ? -1n : 1n;
  const amount = BigInt(m.amount) * sign;
  const shares = ratios.map((r, index) => {
    const exact = amount * BigInt(r);
    return { index, share: exact / total, remainder: exact % total };
  });
  let left = amount - shares.reduce((s, p) => s + p.share, 0n);
  const byRemainder = [...shares].sort((a, b) =>
    a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1,
  );
  for (const part of byRemainder) {
    if (left === 0n) break;
    part.share += 1n;
    left -= 1n;
  }
  return shares.map((p) => signedMoney(Number(p.share * sign), m.currency));
}

/**
 * The amount in major units as a plain decimal string, as providers that take major units want
 * it (Alipay `total_amount`: "12.34"); "1234" for JPY, "1.234" for KWD.
 * WeChat Pay takes the minor units themselves: `m.amount`.
 */
export function toDecimalString(m: Money): string {
  const exponent = minorUnitExponent(m.currency);
  const digits = Math.abs(m.amount)
    .toString()
    .padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return `${m.amount < 0 ? '-' : ''}${whole}${exponent > 0 ? `.${fraction}` : ''}`;
}

/**
 * Read a major-unit decimal ("12.34", "12.3", "12", "-0.50") exactly. Refuses more fraction
 * digits than the currency has (never rounds a provider's amount), exponents, signs other than a
 * leading minus, spaces and thousands separators.
 */
export function parseDecimal(text: string, currency: string): Money {
  const exponent = minorUnitExponent(currency);
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  const fraction = match?.[3] ?? '';
  if (!match || fraction.length > exponent) {
    throw new MoneyError(
      MoneyErrors.invalidDecimal,
      `${JSON.stringify(text)} is not an amount of ${currency} (at most ${exponent} decimals).`,
    );
  }
  const minor = BigInt(`${match[2]}${fraction.padEnd(exponent, '0')}`);
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new MoneyError(MoneyErrors.invalidAmount, `${JSON.stringify(text)} is too large.`);
  }
  return signedMoney(Number(match[1] === '-' ? -minor : minor), currency);
}

/** For people: "¥12.34" / "US$12.34" in zh-CN, "CN¥12.34" / "$12.34" in en. */
export function formatMoney(m: Money, locale: 'zh-CN' | 'en'): string {
  // the decimal string keeps every digit; a float of major units would not for large amounts
  return moneyFormat(locale, m.currency).format(toDecimalString(m) as Intl.StringNumericLiteral);
}

/**
 * One formatter per locale and currency, kept: making an Intl.NumberFormat costs ~50 µs (ICU
 * loads the locale's data each time), formatting with one ~1 µs. Bounded by the currencies ICU
 * knows (assertCurrency refuses the rest) times two locales.
 */
const moneyFormats = new Map<string, Intl.NumberFormat>();
function moneyFormat(locale: 'zh-CN' | 'en', currency: string): Intl.NumberFormat {
  const key = `${locale} ${currency}`;
  let format = moneyFormats.get(key);
  if (!format) {
    const exponent = minorUnitExponent(currency);
    format = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: exponent,
      maximumFractionDigits: exponent,
    });
    moneyFormats.set(key, format);
  }
  return format;
}
