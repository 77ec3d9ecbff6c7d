import { Type } from 'typebox';
import { MoneySchema, Uuid } from '../../platform/http/schemas.js';
import { MAX_URL_TTL_SECONDS } from './asset-url.js';
import { CourseStatus, LessonKind } from './courses.schemas.js';

// the catalog's internal routes: ids are uuids here (a malformed one is a 400); the HTTP client
// answers "nothing" for a malformed id without asking, as the in-process API does

export const InternalCourseParams = Type.Object({ courseId: Uuid });
export const InternalLessonParams = Type.Object({ lessonId: Uuid });
export const InternalAssetParams = Type.Object({ assetId: Uuid });

/** Most published course ids one call returns (the in-process API clamps to the same). */
export const MAX_PUBLISHED_IDS = 100;

export const PublishedQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: MAX_PUBLISHED_IDS }),
});
export const SignQuery = Type.Object({
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_URL_TTL_SECONDS })),
});

export const CourseForSale = Type.Object({
  id: Type.String(),
  title: Type.String(),
  ownerId: Type.String(),
  instructorIds: Type.Array(Type.String()),
  categoryId: Type.Union([Type.String(), Type.Null()]),
  price: MoneySchema,
  isFree: Type.Boolean(),
  status: CourseStatus,
  onSale: Type.Boolean(),
});
export const CatalogLesson = Type.Object({
  id: Type.String(),
  courseId: Type.String(),
  title: Type.String(),
  kind: LessonKind,
  freePreview: Type.Boolean(),
  assetId: Type.Union([Type.String(), Type.Null()]),
  durationSeconds: Type.Union([Type.Integer(), Type.Null()]),
});
export const CatalogLessons = Type.Object({ lessons: Type.Array(CatalogLesson) });
export const PublishedCourseIds = Type.Object({ courseIds: Type.Array(Type.String()) });
export const InternalSignedUrl = Type.Object({ url: Type.String(), expiresAt: Type.String() });
