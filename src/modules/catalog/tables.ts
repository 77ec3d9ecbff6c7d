import type { ColumnType, Generated } from 'kysely';

/** A timestamp the database fills in; written as a Date or an ISO string. */
type Stamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableStamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export const COURSE_STATUSES = ['draft', 'in_review', 'published', 'archived'] as const;
export type CourseStatus = (typeof COURSE_STATUSES)[number];

export const COURSE_LEVELS = ['beginner', 'intermediate', 'advanced', 'all_levels'] as const;
export type CourseLevel = (typeof COURSE_LEVELS)[number];

export const LESSON_KINDS = ['video', 'document', 'slides', 'ebook', 'article'] as const;
export type LessonKind = (typeof LESSON_KINDS)[number];

export const ASSET_KINDS = ['video', 'audio', 'document', 'slides', 'ebook', 'image'] as const;
export type AssetKind = (typeof ASSET_KINDS)[number];

export interface CategoryTable {
  id: Generated<string>;
  slug: string;
  name: string;
  parent_id: string | null;
  position: Generated<number>;
  created_at: Generated<Date>;
}

/** Catalog's own copy of an instructor's public profile (no join into identity). */
export interface InstructorTable {
  id: string;
  display_name: string;
  headline: Generated<string>;
  bio: Generated<string>;
  created_at: Stamp;
  updated_at: Stamp;
}

export interface TagTable {
  id: Generated<string>;
  name: string;
  created_at: Stamp;
}

export interface CourseTable {
  id: Generated<string>;
  owner_id: string;
  title: string;
  subtitle: Generated<string>;
  /** Markdown; never HTML (see CONTEXT.md). */
  description: Generated<string>;
  category_id: string | null;
  cover_asset_id: string | null;
  price_amount: number;
  currency: string;
  level: CourseLevel;
  language: string;
  status: Generated<CourseStatus>;
  review_note: string | null;
  submitted_at: NullableStamp;
  published_at: NullableStamp;
  archived_at: NullableStamp;
  lesson_count: Generated<number>;
  duration_seconds: Generated<number>;
  popularity: Generated<number>;
  /** Average rating × 100, an integer so keyset cursors compare exactly. */
  rating_x100: Generated<number>;
  rating_count: Generated<number>;
  favourite_count: Generated<number>;
  /** Written as tsvector text (see search.ts); read back as text. */
  search_vector: ColumnType<string, string | undefined, string>;
  created_at: Stamp;
  updated_at: Stamp;
}

export interface CourseInstructorTable {
  course_id: string;
  instructor_id: string;
  position: number;
}

export type InvitationStatus = 'pending' | 'accepted';

/** An invitation to co-teach a course; `accepted` waits for a reviewer (see CONTEXT.md). */
export interface InstructorInvitationTable {
  course_id: string;
  instructor_id: string;
  invited_by: string;
  status: ColumnType<InvitationStatus, InvitationStatus | undefined, InvitationStatus>;
  created_at: Generated<Date>;
}

export interface CourseTagTable {
  course_id: string;
  tag_id: string;
}

export interface ChapterTable {
  id: Generated<string>;
  course_id: string;
  title: string;
  position: number;
  created_at: Stamp;
}

export interface LessonTable {
  id: Generated<string>;
  course_id: string;
  chapter_id: string;
  title: string;
  kind: LessonKind;
  position: number;
  duration_seconds: number | null;
  free_preview: boolean;
  asset_id: string | null;
  /** Markdown body of an article lesson. */
  body: string | null;
  created_at: Stamp;
  updated_at: Stamp;
}

export interface AssetTable {
  id: string;
  course_id: string;
  uploaded_by: string;
  kind: AssetKind;
  /** Detected from the bytes, from an allow-list; never the client's claim. */
  content_type: string;
  original_name: string;
  storage_key: string;
  size_bytes: number;
  sha256: string;
  duration_seconds: number | null;
  page_count: number | null;
  created_at: Stamp;
}

export interface FavouriteTable {
  user_id: string;
  course_id: string;
  created_at: Stamp;
}

/** Distinct English words of every course document, for typo correction. */
export interface SearchWordTable {
  word: string;
}

export type CatalogTables = {
  'catalog.categories': CategoryTable;
  'catalog.instructors': InstructorTable;
  'catalog.tags': TagTable;
  'catalog.courses': CourseTable;
  'catalog.course_instructors': CourseInstructorTable;
  'catalog.course_tags': CourseTagTable;
  'catalog.instructor_invitations': InstructorInvitationTable;
  'catalog.chapters': ChapterTable;
  'catalog.lessons': LessonTable;
  'catalog.assets': AssetTable;
  'catalog.favourites': FavouriteTable;
  'catalog.search_words': SearchWordTable;
};
