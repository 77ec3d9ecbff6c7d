import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import {
  add,
  allocate,
  compare,
  equals,
  formatMoney,
  isCurrency,
  type Money,
  MoneyError,
  MoneyErrors,
  minorUnitExponent,
  money,
  parseDecimal,
  percentage,
  signedMoney,
  subtract,
  toDecimalString,
} from './money.js';

const cny = (amount: number): Money => money(amount, 'CNY');
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof MoneyError ? err.code : `not a MoneyError: ${String(err)}`;
  }
  return undefined;
};

describe('currencies', () => {
  it('accepts ISO 4217 codes in circulation and refuses XXX, ABC, metals and bad spelling', () => {
    for (const code of ['CNY', 'USD', 'JPY', 'KWD', 'EUR', 'HKD']) expect(isCurrency(code)).toBe(true);
    for (const code of ['XXX', 'ABC', 'XAU', 'XTS', 'cny', 'CN', 'CNYY', ''])
      expect(isCurrency(code)).toBe(false);
    expect(codeOf(() => money(1, 'XXX'))).toBe(MoneyErrors.invalidCurrency);
    expect(codeOf(() => money(1, 'ABC'))).toBe(MoneyErrors.invalidCurrency);
  });

  it('knows minor-unit exponents 0, 2 and 3, following ISO where CLDR differs', () => {
    expect(minorUnitExponent('JPY')).toBe(0);
    expect(minorUnitExponent('KRW')).toBe(0);
    expect(minorUnitExponent('CNY')).toBe(2);
    expect(minorUnitExponent('USD')).toBe(2);
    expect(minorUnitExponent('KWD')).toBe(3);
    expect(minorUnitExponent('BHD')).toBe(3);
    expect(minorUnitExponent('IQD')).toBe(3); // CLDR says 0
    expect(minorUnitExponent('IRR')).toBe(2); // CLDR says 0
  });
});

describe('money()', () => {
  it('refuses floats, unsafe integers, NaN and infinities', () => {
    for (const bad of [12.5, 0.1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(codeOf(() => money(bad, 'CNY'))).toBe(MoneyErrors.invalidAmount);
      expect(codeOf(() => signedMoney(bad, 'CNY'))).toBe(MoneyErrors.invalidAmount);
    }
    expect(money(Number.MAX_SAFE_INTEGER, 'CNY').amount).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('money() refuses negatives; signedMoney() takes them', () => {
    expect(codeOf(() => money(-1, 'CNY'))).toBe(MoneyErrors.negativeAmount);
    expect(signedMoney(-1, 'CNY')).toEqual({ amount: -1, currency: 'CNY' });
    expect(Object.is(money(-0, 'CNY').amount, 0)).toBe(true);
  });

  it('is a validation AppError, so client input becomes a 400', () => {
    try {
      money(1.5, 'CNY');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).kind).toBe('validation');
    }
  });
});

describe('arithmetic', () => {
  it('adds, subtracts and compares in one currency', () => {
    expect(add(cny(1999), cny(1))).toEqual(cny(2000));
    expect(subtract(cny(100), cny(250))).toEqual(signedMoney(-150, 'CNY'));
    expect(compare(cny(1), cny(2))).toBe(-1);
    expect(compare(cny(2), cny(2))).toBe(0);
    expect(compare(cny(3), cny(2))).toBe(1);
    expect(equals(cny(5), cny(5))).toBe(true);
  });

  it('refuses mixed currencies in add, subtract and compare', () => {
    const usd = money(100, 'USD');
    expect(codeOf(() => add(cny(100), usd))).toBe(MoneyErrors.currencyMismatch);
    expect(codeOf(() => subtract(cny(100), usd))).toBe(MoneyErrors.currencyMismatch);
    expect(codeOf(() => compare(cny(100), usd))).toBe(MoneyErrors.currencyMismatch);
  });

  it('refuses a sum past the safe integer range instead of losing precision', () => {
    expect(codeOf(() => add(cny(Number.MAX_SAFE_INTEGER), cny(1)))).toBe(MoneyErrors.invalidAmount);
  });
});

describe('percentage', () => {
  it('rounds half up (away from zero) by default', () => {
    expect(percentage(cny(1), 50).amount).toBe(1); // 0.5 → 1
    expect(percentage(cny(3), 50).amount).toBe(2); // 1.5 → 2
    expect(percentage(signedMoney(-3, 'CNY'), 50).amount).toBe(-2);
    expect(percentage(cny(999), 30).amount).toBe(300); // 299.7
    expect(percentage(cny(1001), 30).amount).toBe(300); // 300.3
    expect(percentage(cny(1000), 12.5).amount).toBe(125);
    expect(percentage(cny(9), 12.5).amount).toBe(1); // 1.125
  });

  it('half-even and down when asked', () => {
    expect(percentage(cny(1), 50, 'half-even').amount).toBe(0); // 0.5 → 0
    expect(percentage(cny(3), 50, 'half-even').amount).toBe(2); // 1.5 → 2
    expect(percentage(cny(5), 50, 'half-even').amount).toBe(2); // 2.5 → 2
    expect(percentage(cny(7), 50, 'half-even').amount).toBe(4); // 3.5 → 4
    expect(percentage(cny(999), 30, 'down').amount).toBe(299);
  });

  it('is exact for huge amounts and refuses percentages finer than basis points', () => {
    expect(percentage(cny(Number.MAX_SAFE_INTEGER), 100).amount).toBe(Number.MAX_SAFE_INTEGER);
    expect(codeOf(() => percentage(cny(100), 12.345))).toBe(MoneyErrors.invalidRatio);
    expect(codeOf(() => percentage(cny(100), Number.NaN))).toBe(MoneyErrors.invalidRatio);
  });
});

describe('allocate', () => {
  it('splits with no minor unit lost, leftovers to the largest remainders', () => {
    expect(allocate(cny(100), [1, 1, 1]).map((m) => m.amount)).toEqual([34, 33, 33]);
    expect(allocate(cny(100), [70, 30]).map((m) => m.amount)).toEqual([70, 30]);
    expect(allocate(cny(5), [3, 7]).map((m) => m.amount)).toEqual([2, 3]); // 1.5, 3.5 → ties to first
    expect(allocate(cny(1), [1, 2]).map((m) => m.amount)).toEqual([0, 1]); // 0.33, 0.67
    expect(allocate(cny(10), [0, 1]).map((m) => m.amount)).toEqual([0, 10]);
  });

  it('always sums to the whole, for many amounts and ratio sets', () => {
    const ratioSets = [[1, 1, 1], [7000, 3000], [1, 2, 3, 4, 5, 6, 7], [3, 3, 3, 1], [1]];
    for (const ratios of ratioSets) {
      for (let amount = 0; amount < 500; amount += 7) {
        const parts = allocate(cny(amount), ratios);
        expect(parts.reduce((s, p) => s + p.amount, 0)).toBe(amount);
        expect(parts.every((p) => p.amount >= 0 && p.currency === 'CNY')).toBe(true);
      }
    }
    const big = allocate(cny(Number.MAX_SAFE_INTEGER), [1, 1, 1]);
    expect(big.reduce((s, p) => s + BigInt(p.amount), 0n)).toBe(BigInt(Number.MAX_SAFE_INTEGER));
  });

  it('splits a negative amount (a refund) the same way, negated', () => {
    expect(allocate(signedMoney(-100, 'CNY'), [1, 1, 1]).map((m) => m.amount)).toEqual([-34, -33, -33]);
  });

  it('refuses empty, negative, fractional or all-zero ratios', () => {
    for (const ratios of [[], [1, -1], [0.5, 0.5], [0, 0]]) {
      expect(codeOf(() => allocate(cny(100), ratios))).toBe(MoneyErrors.invalidRatio);
    }
  });
});

describe('decimal strings for providers', () => {
  it('writes major units with the currency exponent', () => {
    expect(toDecimalString(cny(1234))).toBe('12.34');
    expect(toDecimalString(cny(5))).toBe('0.05');
    expect(toDecimalString(cny(0))).toBe('0.00');
    expect(toDecimalString(signedMoney(-50, 'CNY'))).toBe('-0.50');
    expect(toDecimalString(money(1234, 'JPY'))).toBe('1234');
    expect(toDecimalString(money(1234, 'KWD'))).toBe('1.234');
    expect(toDecimalString(money(5, 'KWD'))).toBe('0.005');
    expect(toDecimalString(cny(Number.MAX_SAFE_INTEGER))).toBe('90071992547409.91');
  });

  it('reads them back exactly', () => {
    expect(parseDecimal('12.34', 'CNY')).toEqual(cny(1234));
    expect(parseDecimal('12.3', 'CNY')).toEqual(cny(1230));
    expect(parseDecimal('12', 'CNY')).toEqual(cny(1200));
    expect(parseDecimal('0.01', 'CNY')).toEqual(cny(1));
    expect(parseDecimal('-0.50', 'CNY')).toEqual(signedMoney(-50, 'CNY'));
    expect(parseDecimal('1234', 'JPY')).toEqual(money(1234, 'JPY'));
    expect(parseDecimal('1.234', 'KWD')).toEqual(money(1234, 'KWD'));
    expect(parseDecimal('90071992547409.91', 'CNY').amount).toBe(Number.MAX_SAFE_INTEGER);
    for (const m of [cny(1), cny(99999), money(7, 'KWD'), money(7, 'JPY')]) {
      expect(parseDecimal(toDecimalString(m), m.currency)).toEqual(m);
    }
  });

  it('refuses what it would have to round or guess', () => {
    for (const bad of ['12.345', '1.5e3', '+1.00', ' 1.00', '1,000.00', '1.', '.5', '', 'abc', '0x10']) {
      expect(codeOf(() => parseDecimal(bad, 'CNY'))).toBe(MoneyErrors.invalidDecimal);
    }
    expect(codeOf(() => parseDecimal('12.3', 'JPY'))).toBe(MoneyErrors.invalidDecimal);
    expect(codeOf(() => parseDecimal('90071992547409.92', 'CNY'))).toBe(MoneyErrors.invalidAmount);
  });
});

describe('formatMoney', () => {
  it('formats for Chinese and English readers with the right number of decimals', () => {
    expect(formatMoney(cny(1234), 'zh-CN')).toBe('¥12.34');
    expect(formatMoney(cny(1234), 'en')).toBe('CN¥12.34');
    expect(formatMoney(money(123456, 'USD'), 'en')).toBe('$1,234.56');
    expect(formatMoney(money(123456, 'USD'), 'zh-CN')).toBe('US$1,234.56');
    expect(formatMoney(money(1234, 'JPY'), 'en')).toBe('¥1,234');
    expect(formatMoney(money(1234, 'KWD'), 'en')).toBe('KWD\u00a01.234');
    expect(formatMoney(signedMoney(-50, 'CNY'), 'zh-CN')).toBe('-¥0.50');
    expect(formatMoney(cny(Number.MAX_SAFE_INTEGER), 'en')).toBe('CN¥90,071,992,547,409.91');
  });
});
