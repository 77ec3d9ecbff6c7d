/**
 * A statement refused by a unique index (SQLSTATE 23505), optionally a given one: how a race that
 * a read-then-write cannot rule out shows itself, to be answered as the conflict it is.
 */
export const isUniqueViolation = (err: unknown, constraint?: string): boolean => {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
};
