import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type { Static } from 'typebox';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { NewEvent } from '../../platform/messaging/types.js';
import {
  type Actor,
  canView,
  courseNotFound,
  courseUpdatedEvent,
  type EntitlementCheck,
  loadEditable,
  mayOpenLesson,
} from './course.access.js';
import { type CourseDetailView, courseDetail, type Urls } from './course.views.js';
import type { CatalogCache } from './catalog.cache.js';
import { type LessonAdded, LessonAddedEvent } from './catalog.events.js';
import { findAsset } from './assets.queries.js';
import { type CourseRow, findCourse, refreshCourseStats } from './courses.queries.js';
import {
  chapterHasLessons,
  deleteChapter,
  deleteLesson,
  findChapter,
  findLesson,
  insertChapter,
  insertLesson,
  lessonSummary,
  lessonSummariesOfCourse,
  moveLesson,
  nextChapterPosition,
  nextLessonPosition,
  outlineIds,
  setChapterPosition,
  touchCourse,
  updateChapter,
  updateLesson,
} from './outline.queries.js';
import type {
  Chapter,
  CreateLessonInput,
  Lesson,
  ReorderInput,
  UpdateLessonInput,
} from './courses.schemas.js';
import { readingSeconds } from './search.js';
import type { AssetKind, CatalogTables, LessonKind, LessonTable } from './tables.js';
import { CatalogErrors, NotFound } from './catalog.errors.js';
import { nonBlank } from './course.text.js';

type Db = Kysely<CatalogTables>;
type ChapterView = Static<typeof Chapter>;
type LessonView = Static<typeof Lesson>;

/** Which uploaded files a lesson of each kind may present. */
const ASSETS_FOR_LESSON: Record<LessonKind, AssetKind[]> = {
  video: ['video', 'audio'],
  document: ['document'],
  slides: ['slides'],
  ebook: ['ebook'],
  article: [],
};

const lessonNotFound = NotFound.lesson;
const chapterNotFound = NotFound.chapter;

export function createOutlineService(deps: {
  db: Db;
  read: Db;
  cache: CatalogCache;
  urls: Urls;
  entitlements?: EntitlementCheck | undefined;
}) {
  const { db, read, cache, urls, entitlements } = deps;

  /** The asset a lesson points at must be this course's and fit the lesson's kind. */
  async function checkAsset(trx: Db, courseId: string, kind: LessonKind, assetId: string) {
    if (kind === 'article') {
      throw AppError.validation(CatalogErrors.assetNotAllowed, 'An article lesson has a body, not a file.', [
        { field: '/body/assetId', message: 'not allowed for articles' },
      ]);
    }
    const asset = await findAsset(trx, assetId);
    if (asset?.course_id !== courseId) {
      throw AppError.validation(CatalogErrors.unknownAsset, 'The file is not one uploaded to this course.', [
        { field: '/body/assetId', message: 'no such asset in this course' },
      ]);
    }
    if (!ASSETS_FOR_LESSON[kind].includes(asset.kind)) {
      throw AppError.validation(
        CatalogErrors.assetKindMismatch,
        `A ${kind} lesson cannot present a ${asset.kind} file.`,
        [{ field: '/body/assetId', message: `expected ${ASSETS_FOR_LESSON[kind].join(' or ')}` }],
      );
    }
    return asset;
  }

  function checkBody(kind: LessonKind, body: string | null | undefined) {
    if (kind !== 'article' && body) {
      throw AppError.validation(CatalogErrors.bodyNotAllowed, 'Only article lessons have a body.', [
        { field: '/body/body', message: 'only for articles' },
      ]);
    }
  }

  /** After any outline change: counts, the course's clock, the event, in the same transaction. */
  async function outlineChanged(
    trx: Transaction<CatalogTables>,
    courseId: string,
    extra: NewEvent[] = [],
  ): Promise<void> {
    await refreshCourseStats(trx, courseId);
    await touchCourse(trx, courseId);
    const row = await findCourse(trx, courseId);
    if (!row) throw courseNotFound();
    await enqueue(trx, 'catalog', [...extra, await courseUpdatedEvent(trx, row, ['outline'])]);
  }

  async function editableChapter(trx: Db, actor: Actor, chapterId: string) {
    const chapter = await findChapter(trx, chapterId);
    if (!chapter) throw chapterNotFound();
    const course = await loadEditable(trx, chapter.course_id, actor, { editableContent: true }).catch(
      (err: unknown) => {
        // a chapter of a course the actor cannot see does not exist for them either
        throw err instanceof AppError && err.code === CatalogErrors.courseNotFound ? chapterNotFound() : err;
      },
    );
    return { chapter, course };
  }

  async function editableLesson(trx: Db, actor: Actor, lessonId: string) {
    const lesson = await findLesson(trx, lessonId);
    if (!lesson) throw lessonNotFound();
    const course = await loadEditable(trx, lesson.course_id, actor, { editableContent: true }).catch(
      (err: unknown) => {
        throw err instanceof AppError && err.code === CatalogErrors.courseNotFound ? lessonNotFound() : err;
      },
    );
    return { lesson, course };
  }

  const chapterView = (c: {
    id: string;
    course_id: string;
    title: string;
    position: number;
  }): ChapterView => ({
    id: c.id,
    courseId: c.course_id,
    title: c.title,
    position: c.position,
  });

  async function lessonView(dbx: Db, lesson: Selectable<LessonTable>, locked: boolean): Promise<LessonView> {
    const asset = lesson.asset_id ? await findAsset(dbx, lesson.asset_id) : undefined;
    return {
      id: lesson.id,
      courseId: lesson.course_id,
      chapterId: lesson.chapter_id,
      title: lesson.title,
      kind: lesson.kind,
      position: lesson.position,
      durationSeconds: lesson.duration_seconds,
      freePreview: lesson.free_preview,
      locked,
      body: locked ? null : lesson.body,
      asset: asset
        ? {
            id: asset.id,
            kind: asset.kind,
            contentType: asset.content_type,
            sizeBytes: asset.size_bytes,
            pageCount: asset.page_count,
            durationSeconds: asset.duration_seconds,
          }
        : null,
    };
  }

  /** The lesson and its course, if the actor may see the course at all. */
  async function lessonWithCourse(
    actor: Actor | undefined,
    lessonId: string,
  ): Promise<{ lesson: Selectable<LessonTable>; course: CourseRow }> {
    const lesson = await findLesson(read, lessonId);
    if (!lesson) throw lessonNotFound();
    const course = await findCourse(read, lesson.course_id);
    if (!course || !canView(actor, course)) throw lessonNotFound();
    return { lesson, course };
  }

  const title = (value: string) => nonBlank(value, 'title');

  return {
    async createChapter(actor: Actor, courseId: string, input: { title: string }): Promise<ChapterView> {
      const chapter = await inTransaction(db, async (trx) => {
        await loadEditable(trx, courseId, actor, { editableContent: true });
        const row = await insertChapter(trx, {
          course_id: courseId,
          title: title(input.title),
          position: await nextChapterPosition(trx, courseId),
        });
        await outlineChanged(trx, courseId);
        return row;
      });
      await cache.invalidateCourse(courseId);
      return chapterView(chapter);
    },

    async renameChapter(actor: Actor, chapterId: string, input: { title: string }): Promise<ChapterView> {
      const chapter = await inTransaction(db, async (trx) => {
        const { course } = await editableChapter(trx, actor, chapterId);
        const row = await updateChapter(trx, chapterId, { title: title(input.title) });
        await outlineChanged(trx, course.id);
        return row;
      });
      await cache.invalidateCourse(chapter.course_id);
      return chapterView(chapter);
    },

    async deleteChapter(actor: Actor, chapterId: string): Promise<void> {
      const courseId = await inTransaction(db, async (trx) => {
        const { course } = await editableChapter(trx, actor, chapterId);
        if (await chapterHasLessons(trx, chapterId)) {
          throw AppError.conflict(
            CatalogErrors.chapterNotEmpty,
            'Move or delete the chapter’s lessons first.',
          );
        }
        await deleteChapter(trx, chapterId);
        await outlineChanged(trx, course.id);
        return course.id;
      });
      await cache.invalidateCourse(courseId);
    },

    async createLesson(actor: Actor, chapterId: string, input: CreateLessonInput): Promise<LessonView> {
      const lesson = await inTransaction(db, async (trx) => {
        const { chapter, course } = await editableChapter(trx, actor, chapterId);
        checkBody(input.kind, input.body);
        const asset = input.assetId ? await checkAsset(trx, course.id, input.kind, input.assetId) : undefined;
        const duration =
          input.durationSeconds ??
          asset?.duration_seconds ??
          (input.kind === 'article' && input.body ? readingSeconds(input.body) : null);
        const row = await insertLesson(trx, {
          course_id: course.id,
          chapter_id: chapter.id,
          title: title(input.title),
          kind: input.kind,
          position: await nextLessonPosition(trx, chapterId),
          duration_seconds: duration,
          free_preview: input.freePreview ?? false,
          asset_id: input.assetId ?? null,
          body: input.kind === 'article' ? (input.body ?? null) : null,
        });
        const added: LessonAdded = {
          courseId: course.id,
          lessonId: row.id,
          chapterId: chapter.id,
          title: row.title,
          kind: row.kind,
          freePreview: row.free_preview,
          courseStatus: course.status,
        };
        await outlineChanged(trx, course.id, [LessonAddedEvent.create(course.id, added)]);
        return row;
      });
      await cache.invalidateCourse(lesson.course_id);
      return lessonView(db, lesson, false);
    },

    async updateLesson(actor: Actor, lessonId: string, input: UpdateLessonInput): Promise<LessonView> {
      const lesson = await inTransaction(db, async (trx) => {
        const { lesson: current, course } = await editableLesson(trx, actor, lessonId);
        checkBody(current.kind, input.body);
        const set: Updateable<LessonTable> = { updated_at: new Date() };
        if (input.title !== undefined) set.title = title(input.title);
        if (input.freePreview !== undefined) set.free_preview = input.freePreview;
        if (input.body !== undefined) set.body = input.body;
        if (input.assetId !== undefined && input.assetId !== current.asset_id) {
          const asset = input.assetId
            ? await checkAsset(trx, course.id, current.kind, input.assetId)
            : undefined;
          set.asset_id = input.assetId;
          if (input.durationSeconds === undefined && asset?.duration_seconds != null) {
            set.duration_seconds = asset.duration_seconds;
          }
        }
        if (input.durationSeconds !== undefined) set.duration_seconds = input.durationSeconds;
        else if (current.kind === 'article' && input.body) set.duration_seconds = readingSeconds(input.body);
        const row = await updateLesson(trx, lessonId, set);
        await outlineChanged(trx, course.id);
        return row;
      });
      await cache.invalidateCourse(lesson.course_id);
      return lessonView(db, lesson, false);
    },

    async deleteLesson(actor: Actor, lessonId: string): Promise<void> {
      const courseId = await inTransaction(db, async (trx) => {
        const { course } = await editableLesson(trx, actor, lessonId);
        await deleteLesson(trx, lessonId);
        await outlineChanged(trx, course.id);
        return course.id;
      });
      await cache.invalidateCourse(courseId);
    },

    /** Set the order of chapters and of lessons (lessons may move between chapters) in one go. */
    async reorder(actor: Actor, courseId: string, input: ReorderInput): Promise<CourseDetailView> {
      const detail = await inTransaction(db, async (trx) => {
        const course = await loadEditable(trx, courseId, actor, { editableContent: true });
        const existing = await outlineIds(trx, courseId);
        const sameSet = (given: string[], existing: string[]) =>
          given.length === existing.length &&
          new Set(given).size === given.length &&
          given.every((id) => existing.includes(id));
        const givenChapters = input.chapters.map((c) => c.id);
        const givenLessons = input.chapters.flatMap((c) => c.lessonIds);
        if (!sameSet(givenChapters, existing.chapters) || !sameSet(givenLessons, existing.lessons)) {
          throw AppError.validation(
            CatalogErrors.outlineMismatch,
            'List every chapter of the course once, and every lesson once, in the new order.',
            [{ field: '/body/chapters', message: 'must contain exactly the course’s chapters and lessons' }],
          );
        }
        for (const [chapterIndex, chapter] of input.chapters.entries()) {
          await setChapterPosition(trx, chapter.id, chapterIndex);
          for (const [lessonIndex, lessonId] of chapter.lessonIds.entries()) {
            await moveLesson(trx, lessonId, chapter.id, lessonIndex);
          }
        }
        await outlineChanged(trx, courseId);
        const row = await findCourse(trx, course.id);
        if (!row) throw courseNotFound();
        return courseDetail(trx, urls, row, true);
      });
      await cache.invalidateCourse(courseId);
      return detail;
    },

    /** A lesson as its reader sees it: the body only when they may open it. */
    async lesson(actor: Actor | undefined, lessonId: string): Promise<LessonView> {
      const { lesson, course } = await lessonWithCourse(actor, lessonId);
      const open = await mayOpenLesson(actor, course, lesson, entitlements);
      return lessonView(read, lesson, !open);
    },

    lessonWithCourse,

    /** A lesson as other modules see it (learning, community), whoever asks. */
    async lessonSummary(lessonId: string) {
      const row = await lessonSummary(db, lessonId);
      return row ? summaryOf(row) : undefined;
    },
    async lessonSummariesOfCourse(courseId: string) {
      return (await lessonSummariesOfCourse(db, courseId)).map(summaryOf);
    },
  };
}

type SummaryRow = Pick<
  LessonTable,
  'course_id' | 'title' | 'kind' | 'free_preview' | 'asset_id' | 'duration_seconds'
> & { id: string };

const summaryOf = (row: SummaryRow) => ({
  id: row.id,
  courseId: row.course_id,
  title: row.title,
  kind: row.kind,
  freePreview: row.free_preview,
  assetId: row.asset_id,
  durationSeconds: row.duration_seconds,
});

export type OutlineService = ReturnType<typeof createOutlineService>;
