import { Type } from 'typebox';
import { AssetKind } from './courses.schemas.js';

/** An uploaded file as its course's editors see it. */
export const Asset = Type.Object({
  id: Type.String({ format: 'uuid' }),
  courseId: Type.String({ format: 'uuid' }),
  kind: AssetKind,
  contentType: Type.String({ description: 'Detected from the content, not taken from the client' }),
  originalName: Type.String(),
  sizeBytes: Type.Integer(),
  sha256: Type.String(),
  durationSeconds: Type.Union([Type.Integer(), Type.Null()]),
  pageCount: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

export const SignedUrl = Type.Object({
  url: Type.String({ description: 'Opens the file until expiresAt; supports HTTP Range' }),
  expiresAt: Type.String({ format: 'date-time' }),
});
