import { Type } from 'typebox';

export const RebuildInput = Type.Object(
  {
    /** UTC days to rebuild; every day with raw events when left out. */
    days: Type.Optional(
      Type.Array(Type.String({ format: 'date', description: 'A UTC day, YYYY-MM-DD' }), {
        minItems: 1,
        maxItems: 366,
        uniqueItems: true,
      }),
    ),
  },
  { additionalProperties: false },
);

export const RebuildQueued = Type.Object({
  /** The job's id; null when a rebuild of the same days is already waiting. */
  jobId: Type.Union([Type.String(), Type.Null()]),
});
