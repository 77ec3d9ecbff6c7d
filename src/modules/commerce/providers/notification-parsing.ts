import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { AppError } from '../../../platform/errors.js';
import { type Money, money, parseDecimal } from '../../../platform/money.js';
import { NotificationError, NotificationErrors } from './provider.errors.js';

/** Helpers every adapter uses to turn untrusted notification bytes into typed values, or a 4xx. */

export function malformed(message: string): NotificationError {
  return new NotificationError(NotificationErrors.malformed, message);
}

// compiled once per schema: Value.Check interprets the schema on every call, about 15 times slower
const validators = new WeakMap<TSchema, ReturnType<typeof Compile>>();

function validatorOf<S extends TSchema>(schema: S): ReturnType<typeof Compile<S>> {
  let validator = validators.get(schema) as ReturnType<typeof Compile<S>> | undefined;
  if (!validator) {
    validator = Compile(schema);
    validators.set(schema, validator);
  }
  return validator;
}

/** JSON text to a value of `schema`; anything else (empty, truncated, another shape) is malformed. */
export function parseJsonAs<S extends TSchema>(schema: S, text: string, what: string): Static<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(`${what} is not JSON`);
  }
  const validator = validatorOf(schema);
  if (!validator.Check(value)) {
    const [first] = validator.Errors(value);
    throw malformed(`${what} has an unexpected shape${first ? ` at ${first.instancePath || '/'}` : ''}`);
  }
  return value;
}

/** Minor units and a currency from a notification; a bad value is malformed, never a 500. */
export function notifiedMoney(amount: number, currency: string): Money {
  try {
    return money(amount, currency);
  } catch (err) {
    if (err instanceof AppError) throw malformed(`amount: ${err.message}`);
    throw err;
  }
}

/** A major-unit decimal (Alipay `total_amount`) read exactly; a bad value is malformed. */
export function notifiedDecimal(text: string, currency: string): Money {
  try {
    const value = parseDecimal(text, currency);
    return money(value.amount, value.currency);
  } catch (err) {
    if (err instanceof AppError) throw malformed(`amount: ${err.message}`);
    throw err;
  }
}

/** A header's one value, or a malformed-notification error naming it. */
export function requiredHeader(headers: Record<string, string | undefined>, name: string): string {
  const value = headers[name];
  if (value === undefined || value === '') throw malformed(`header ${name} is missing`);
  return value;
}

/**
 * Node's request headers as `verifyNotification` takes them. A header sent twice is dropped
 * rather than joined: two signatures or timestamps are ambiguous, so the check fails as missing.
 */
export function notificationHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(headers).flatMap(([name, value]) =>
      typeof value === 'string' ? [[name.toLowerCase(), value]] : [],
    ),
  );
}
