import { type Static, Type } from 'typebox';
import { PageQuery } from '../../platform/http/pagination.js';
import { isCurrency } from '../../platform/money.js';
import { ASSET_KINDS, COURSE_LEVELS, COURSE_STATUSES, LESSON_KINDS } from './tables.js';

const Uuid = Type.String({ format: 'uuid' });
const Nullable = <T extends import('typebox').TSchema>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const CourseStatus = Type.Enum([...COURSE_STATUSES]);
export const CourseLevel = Type.Enum([...COURSE_LEVELS]);
export const LessonKind = Type.Enum([...LESSON_KINDS]);
export const AssetKind = Type.Enum([...ASSET_KINDS]);

/** `:courseId` in a route's path. */
export const CourseParams = Type.Object({ courseId: Uuid });

export const MAX_PRICE = 100_000_000;

export const Money = Type.Object(
  {
    amount: Type.Integer({ minimum: 0, maximum: MAX_PRICE, description: 'Minor units (fen, cents)' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217', examples: ['CNY'] }),
  },
  { description: 'Money in minor units' },
);

/**
 * A currency a client may send: the ISO 4217 codes `isCurrency` accepts, listed as an enum so the
 * edge refuses `XXX` or `ABC` with a 400 on the field and the OpenAPI document shows the choices.
 * Answers keep the plain `Money` shape: what we stored was checked on the way in.
 */
const CurrencyCode = Type.String({
  enum: Intl.supportedValuesOf('currency').filter(isCurrency),
  description: 'ISO 4217',
  examples: ['CNY'],
});

/** A price a client sends. */
export const PriceInput = Type.Object(
  {
    amount: Money.properties.amount,
    currency: CurrencyCode,
  },
  { description: 'Money in minor units' },
);

const Language = Type.String({
  pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$',
  description: 'BCP 47 language tag',
  examples: ['zh-CN', 'en'],
});
const Title = Type.String({ minLength: 1, maxLength: 200 });
const TagName = Type.String({ minLength: 1, maxLength: 40 });

export const Highlight = Type.Object({
  title: Type.String({ description: 'HTML-escaped title with matches in <mark>' }),
  subtitle: Type.Optional(Type.String()),
  snippet: Type.Optional(Type.String({ description: 'HTML-escaped part of the description around a match' })),
});

export const InstructorRef = Type.Object({ id: Uuid, displayName: Type.String() });
export const CategoryRef = Type.Object({ id: Uuid, slug: Type.String(), name: Type.String() });

export const CourseSummary = Type.Object({
  id: Uuid,
  title: Type.String(),
  subtitle: Type.String(),
  coverUrl: Nullable(Type.String()),
  price: Money,
  isFree: Type.Boolean(),
  level: CourseLevel,
  language: Type.String(),
  category: Nullable(CategoryRef),
  instructors: Type.Array(InstructorRef),
  tags: Type.Array(Type.String()),
  lessonCount: Type.Integer(),
  durationSeconds: Type.Integer(),
  rating: Type.Number({ description: 'Average rating 0–5' }),
  ratingCount: Type.Integer(),
  popularity: Type.Integer(),
  status: CourseStatus,
  publishedAt: Nullable(DateTime),
  highlight: Type.Optional(Highlight),
});

export const LessonAssetInfo = Type.Object({
  kind: AssetKind,
  contentType: Type.String(),
  sizeBytes: Type.Integer(),
  pageCount: Nullable(Type.Integer()),
  durationSeconds: Nullable(Type.Integer()),
});

export const LessonOutline = Type.Object({
  id: Uuid,
  title: Type.String(),
  kind: LessonKind,
  position: Type.Integer(),
  durationSeconds: Nullable(Type.Integer()),
  freePreview: Type.Boolean(),
  /** False for a paid lesson the caller may not open: only its metadata is shown. */
  locked: Type.Boolean(),
  hasContent: Type.Boolean(),
  asset: Nullable(LessonAssetInfo),
  assetId: Type.Optional(Nullable(Uuid)),
});

export const ChapterOutline = Type.Object({
  id: Uuid,
  title: Type.String(),
  position: Type.Integer(),
  lessons: Type.Array(LessonOutline),
});

export const CourseDetail = Type.Object({
  ...CourseSummary.properties,
  description: Type.String({ description: 'Markdown. Render with raw HTML disabled.' }),
  ownerId: Uuid,
  favouriteCount: Type.Integer(),
  favourited: Nullable(Type.Boolean()),
  createdAt: DateTime,
  updatedAt: DateTime,
  chapters: Type.Array(ChapterOutline),
  coverAssetId: Type.Optional(Nullable(Uuid)),
  reviewNote: Type.Optional(Nullable(Type.String())),
  submittedAt: Type.Optional(Nullable(DateTime)),
  archivedAt: Type.Optional(Nullable(DateTime)),
});

export const CreateCourseBody = Type.Object({
  title: Title,
  subtitle: Type.Optional(Type.String({ maxLength: 300 })),
  description: Type.Optional(Type.String({ maxLength: 20_000, description: 'Markdown' })),
  categoryId: Type.Optional(Nullable(Uuid)),
  price: PriceInput,
  level: CourseLevel,
  language: Language,
  tags: Type.Optional(Type.Array(TagName, { maxItems: 10 })),
  instructorIds: Type.Optional(
    Type.Array(Uuid, {
      maxItems: 5,
      description: 'Co-instructors shown with the owner; they must have a profile',
    }),
  ),
});

export const UpdateCourseBody = Type.Object({
  title: Type.Optional(Title),
  subtitle: Type.Optional(Type.String({ maxLength: 300 })),
  description: Type.Optional(Type.String({ maxLength: 20_000 })),
  categoryId: Type.Optional(Nullable(Uuid)),
  price: Type.Optional(PriceInput),
  level: Type.Optional(CourseLevel),
  language: Type.Optional(Language),
  tags: Type.Optional(Type.Array(TagName, { maxItems: 10 })),
  instructorIds: Type.Optional(Type.Array(Uuid, { maxItems: 5 })),
  coverAssetId: Type.Optional(Nullable(Uuid)),
});
export type CreateCourseInput = Static<typeof CreateCourseBody>;
export type UpdateCourseInput = Static<typeof UpdateCourseBody>;

export const RejectBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) });

export const SortParam = Type.Enum(['newest', 'popular', 'rating', 'price_asc', 'price_desc', 'relevance']);

export const CourseListQuery = Type.Object({
  ...PageQuery.properties,
  q: Type.Optional(Type.String({ maxLength: 200, description: 'Full-text search (Chinese and English)' })),
  category: Type.Optional(
    Type.String({ maxLength: 80, description: 'Category slug; includes sub-categories' }),
  ),
  tag: Type.Optional(TagName),
  free: Type.Optional(Type.Boolean()),
  minPrice: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PRICE })),
  maxPrice: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PRICE })),
  currency: Type.Optional(CurrencyCode),
  level: Type.Optional(CourseLevel),
  language: Type.Optional(Language),
  instructorId: Type.Optional(Uuid),
  sort: Type.Optional(SortParam),
});
export type CourseListQuery = Static<typeof CourseListQuery>;

export const StudioListQuery = Type.Object({
  ...PageQuery.properties,
  status: Type.Optional(CourseStatus),
});

export const CreateChapterBody = Type.Object({ title: Title });
export const UpdateChapterBody = Type.Object({ title: Title });
export const Chapter = Type.Object({
  id: Uuid,
  courseId: Uuid,
  title: Type.String(),
  position: Type.Integer(),
});

export const CreateLessonBody = Type.Object({
  title: Title,
  kind: LessonKind,
  freePreview: Type.Optional(Type.Boolean()),
  durationSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 24 * 3600 })),
  assetId: Type.Optional(Uuid),
  body: Type.Optional(Type.String({ maxLength: 200_000, description: 'Markdown body of an article lesson' })),
});
export const UpdateLessonBody = Type.Object({
  title: Type.Optional(Title),
  freePreview: Type.Optional(Type.Boolean()),
  durationSeconds: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 24 * 3600 }))),
  assetId: Type.Optional(Nullable(Uuid)),
  body: Type.Optional(Nullable(Type.String({ maxLength: 200_000 }))),
});
export type CreateLessonInput = Static<typeof CreateLessonBody>;
export type UpdateLessonInput = Static<typeof UpdateLessonBody>;

export const Lesson = Type.Object({
  id: Uuid,
  courseId: Uuid,
  chapterId: Uuid,
  title: Type.String(),
  kind: LessonKind,
  position: Type.Integer(),
  durationSeconds: Nullable(Type.Integer()),
  freePreview: Type.Boolean(),
  locked: Type.Boolean(),
  body: Nullable(Type.String({ description: 'Markdown; null when locked or not an article' })),
  asset: Nullable(Type.Object({ id: Uuid, ...LessonAssetInfo.properties })),
});

export const ReorderBody = Type.Object({
  chapters: Type.Array(Type.Object({ id: Uuid, lessonIds: Type.Array(Uuid, { maxItems: 1000 }) }), {
    maxItems: 200,
  }),
});
export type ReorderInput = Static<typeof ReorderBody>;

export const Tag = Type.Object({ name: Type.String(), courseCount: Type.Integer() });
