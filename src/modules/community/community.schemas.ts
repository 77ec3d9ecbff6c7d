import { type Static, type TSchema, Type } from 'typebox';
import { DateTime, IdParams, Uuid } from '../../platform/http/schemas.js';
import type { ItemStatus } from './tables.js';

/** Schemas shared by reviews, comments and moderation. */

/** An enum rather than a union of literals, which the response serializer checks through Ajv per value. */
export const Status = Type.Unsafe<ItemStatus>(Type.String({ enum: ['visible', 'held', 'hidden'] }));

/** Plain text up to `max` characters; HTML is not interpreted, it is text like any other. */
export const PlainText = (max: number) => Type.String({ minLength: 1, maxLength: max });

/**
 * A value or null as one JSON Schema type list (`type: ['boolean', 'null']`): the same document
 * as a union with `Type.Null()`, but the response serializer (fast-json-stringify) writes it
 * inline, where for an `anyOf` it asks Ajv which branch each value matches (three times for every
 * review of a list page).
 */
export const OrNull = <T extends TSchema & { type: string }>(schema: T) =>
  Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });

export const Author = Type.Object({ id: Uuid, displayName: OrNull(Type.String()) });

export const Votes = Type.Object({
  helpful: Type.Integer(),
  unhelpful: Type.Integer(),
  /** Wilson lower bound of the helpful share (95 %), the "best" order. */
  score: Type.Number(),
  /** The caller's own vote: true helpful, false unhelpful, null none or anonymous. */
  mine: OrNull(Type.Boolean()),
});
export type Votes = Static<typeof Votes>;

export const VoteInput = Type.Object(
  { helpful: Type.Boolean({ default: true }) },
  { additionalProperties: false },
);

export const ReportInput = Type.Object({ reason: PlainText(500) }, { additionalProperties: false });
export const Reported = Type.Object({ reported: Type.Boolean(), subjectId: Uuid });

export const ListQuery = Type.Object({
  sort: Type.Optional(
    Type.Union(
      [Type.Literal('newest'), Type.Literal('oldest'), Type.Literal('helpful'), Type.Literal('best')],
      {
        default: 'newest',
      },
    ),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
});
export type ListQuery = Static<typeof ListQuery>;

export const ReviewParams = Type.Object({ reviewId: Uuid });
export const CourseParams = Type.Object({ courseId: Uuid });
export const LessonParams = Type.Object({ lessonId: Uuid });
export const CommentParams = Type.Object({ commentId: Uuid });

/** OpenAPI tag of every community route. */
export const tags = ['community'];

/**
 * The two kinds of item users vote on and report, as their routes name them: votes and reports
 * are one set of routes built per kind (`/reviews/:id/vote`, `/comments/:id/reports`…).
 */
export const SUBJECTS = [
  { type: 'review', plural: 'reviews', params: IdParams },
  { type: 'comment', plural: 'comments', params: IdParams },
] as const;

export { DateTime, Uuid };
