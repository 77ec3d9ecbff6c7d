/**
 * Services throw AppError; the HTTP error handler is the one place that turns it into a status
 * and a problem+json body. `code` is stable (`module.thing-went-wrong`) so clients can branch on it.
 */

export type ErrorKind =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'gone'
  | 'too_large'
  | 'unsupported'
  | 'rate_limited'
  | 'unavailable';

export const statusOfKind: Record<ErrorKind, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  too_large: 413,
  unsupported: 415,
  rate_limited: 429,
  unavailable: 503,
};

export interface FieldProblem {
  /** JSON pointer-ish path of the offending field, e.g. `/body/email`. */
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details: { fields?: FieldProblem[]; [key: string]: unknown } = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  static validation(code: string, message: string, fields?: FieldProblem[]): AppError {
    return new AppError('validation', code, message, fields ? { fields } : {});
  }
  static notFound(code: string, message: string): AppError {
    return new AppError('not_found', code, message);
  }
  static conflict(code: string, message: string): AppError {
    return new AppError('conflict', code, message);
  }
  static forbidden(code: string, message: string): AppError {
    return new AppError('forbidden', code, message);
  }
  static unauthenticated(code: string, message: string): AppError {
    return new AppError('unauthenticated', code, message);
  }
}
