import { type Static, Type } from 'typebox';
import { Author, DateTime, PlainText, Status, Uuid, Votes } from './community.schemas.js';

export const CommentInput = Type.Object(
  { body: PlainText(5000), parentId: Type.Optional(Uuid) },
  { additionalProperties: false },
);
export const CommentEdit = Type.Object({ body: PlainText(5000) }, { additionalProperties: false });

const CommentFields = {
  id: Uuid,
  lessonId: Uuid,
  parentId: Type.Union([Uuid, Type.Null()]),
  /** null for a deleted comment kept as a tombstone. */
  author: Type.Union([Author, Type.Null()]),
  /** Empty for a tombstone. */
  body: Type.String(),
  /** Deleted while it had replies: shown as "deleted", its replies keep their thread. */
  deleted: Type.Boolean(),
  /** Written by an instructor of the course: shown as an instructor answer. */
  instructorAnswer: Type.Boolean(),
  status: Status,
  votes: Votes,
  mentions: Type.Array(Uuid),
  createdAt: DateTime,
  updatedAt: DateTime,
};

export const Comment = Type.Object(CommentFields);
export type Comment = Static<typeof Comment>;

export const Thread = Type.Object({ ...CommentFields, replies: Type.Array(Comment) });
export type Thread = Static<typeof Thread>;
