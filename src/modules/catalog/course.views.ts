import type { Kysely } from 'kysely';
import type { Static } from 'typebox';
import {
  type CourseRow,
  categoriesByIds,
  chaptersOfCourse,
  instructorsOfCourses,
  lessonsOfCourse,
  tagsOfCourses,
} from './courses.queries.js';
import type { CourseDetail, CourseSummary, LessonOutline } from './courses.schemas.js';
import type { CatalogTables } from './tables.js';

export type CourseSummaryView = Static<typeof CourseSummary>;
export type CourseDetailView = Static<typeof CourseDetail>;
type LessonOutlineView = Static<typeof LessonOutline>;

/** Builds the addresses the API hands out, absolute when PUBLIC_URL is set. */
export interface Urls {
  api(path: string): string;
}

export function createUrls(publicUrl: string | undefined): Urls {
  const base = (publicUrl ?? '').replace(/\/+$/, '');
  return { api: (path) => `${base}/api/v1${path}` };
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function coverUrl(urls: Urls, row: Pick<CourseRow, 'id' | 'cover_asset_id'>): string | null {
  // the asset id in the query changes with the cover, so a CDN or browser never shows the old one
  return row.cover_asset_id ? urls.api(`/courses/${row.id}/cover?v=${row.cover_asset_id.slice(0, 8)}`) : null;
}

/** Wire summaries for rows, with their instructors, tags and category in three queries. */
export async function summaries(
  db: Kysely<CatalogTables>,
  urls: Urls,
  rows: CourseRow[],
): Promise<CourseSummaryView[]> {
  const ids = rows.map((r) => r.id);
  const categoryIds = [...new Set(rows.map((r) => r.category_id).filter((id): id is string => id !== null))];
  const [instructors, tags, categories] = await Promise.all([
    instructorsOfCourses(db, ids),
    tagsOfCourses(db, ids),
    categoriesByIds(db, categoryIds),
  ]);
  const categoryById = new Map(categories.map((c) => [c.id, c]));
  return rows.map((row) => {
    const category = row.category_id ? categoryById.get(row.category_id) : undefined;
    return {
      id: row.id,
      title: row.title,
      subtitle: row.subtitle,
      coverUrl: coverUrl(urls, row),
      price: { amount: row.price_amount, currency: row.currency },
      isFree: row.price_amount === 0,
      level: row.level,
      language: row.language,
      category: category ? { id: category.id, slug: category.slug, name: category.name } : null,
      instructors: instructors
        .filter((i) => i.course_id === row.id)
        .map((i) => ({ id: i.id, displayName: i.display_name })),
      tags: tags.filter((t) => t.course_id === row.id).map((t) => t.name),
      lessonCount: row.lesson_count,
      durationSeconds: row.duration_seconds,
      rating: row.rating_x100 / 100,
      ratingCount: row.rating_count,
      popularity: row.popularity,
      status: row.status,
      publishedAt: iso(row.published_at),
    };
  });
}

/**
 * The course page. `full` is the owner's and admin's view: every lesson unlocked, asset ids and
 * the review note. The public view shows paid lessons as metadata only.
 */
export async function courseDetail(
  db: Kysely<CatalogTables>,
  urls: Urls,
  row: CourseRow,
  full: boolean,
): Promise<CourseDetailView> {
  const [[summary], chapters, lessons] = await Promise.all([
    summaries(db, urls, [row]),
    chaptersOfCourse(db, row.id),
    lessonsOfCourse(db, row.id),
  ]);
  if (!summary) throw new Error('summary of a loaded course is missing');
  const lessonView = (l: (typeof lessons)[number]): LessonOutlineView => ({
    id: l.id,
    title: l.title,
    kind: l.kind,
    position: l.position,
    durationSeconds: l.duration_seconds,
    freePreview: l.free_preview,
    locked: !full && !l.free_preview,
    hasContent: l.asset_id !== null || l.has_body,
    asset:
      l.asset_kind && l.asset_content_type
        ? {
            kind: l.asset_kind,
            contentType: l.asset_content_type,
            sizeBytes: Number(l.asset_size_bytes),
            pageCount: l.asset_page_count,
            durationSeconds: l.asset_duration_seconds,
          }
        : null,
    ...(full ? { assetId: l.asset_id } : {}),
  });
  return {
    ...summary,
    description: row.description,
    ownerId: row.owner_id,
    favouriteCount: row.favourite_count,
    favourited: null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    chapters: chapters.map((c) => ({
      id: c.id,
      title: c.title,
      position: c.position,
      lessons: lessons.filter((l) => l.chapter_id === c.id).map(lessonView),
    })),
    ...(full
      ? {
          coverAssetId: row.cover_asset_id,
          reviewNote: row.review_note,
          submittedAt: iso(row.submitted_at),
          archivedAt: iso(row.archived_at),
        }
      : {}),
  };
}
