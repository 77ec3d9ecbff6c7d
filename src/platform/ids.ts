const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a value is a UUID, checked before it reaches a uuid column: PostgreSQL refuses any other
 * text there with an error, which would surface as a 500 instead of a 404 or a 400.
 */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);
