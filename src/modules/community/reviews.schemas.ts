import { type Static, Type } from 'typebox';
import { Author, DateTime, OrNull, PlainText, Status, Uuid, Votes } from './community.schemas.js';

export const ReviewInput = Type.Object(
  { rating: Type.Integer({ minimum: 1, maximum: 5 }), body: PlainText(5000) },
  { additionalProperties: false },
);
export const ReviewEdit = Type.Object(
  { rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })), body: Type.Optional(PlainText(5000)) },
  { additionalProperties: false, minProperties: 1 },
);
export const ReplyInput = Type.Object({ body: PlainText(5000) }, { additionalProperties: false });

export const Review = Type.Object({
  id: Uuid,
  courseId: Uuid,
  author: Author,
  rating: Type.Integer(),
  body: Type.String(),
  /** The author owns the course (no refund since). */
  verified: Type.Boolean(),
  status: Status,
  votes: Votes,
  /** The instructor's reply: `held` (word list) and `hidden` ones only to their author and moderators. */
  reply: OrNull(Type.Object({ body: Type.String(), authorId: Uuid, status: Status, repliedAt: DateTime })),
  createdAt: DateTime,
  updatedAt: DateTime,
});
export type Review = Static<typeof Review>;

export const CourseRating = Type.Object({
  courseId: Uuid,
  count: Type.Integer(),
  /** Plain mean of the ratings, null without reviews. */
  mean: Type.Union([Type.Number(), Type.Null()]),
  /** (C·m + Σ) / (C + n): what "sort by rating" uses. */
  bayesian: Type.Number(),
  distribution: Type.Object({
    '1': Type.Integer(),
    '2': Type.Integer(),
    '3': Type.Integer(),
    '4': Type.Integer(),
    '5': Type.Integer(),
  }),
});
export type CourseRating = Static<typeof CourseRating>;

export const RatingListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
});
