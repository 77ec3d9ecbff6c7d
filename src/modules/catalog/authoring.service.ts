import type { Kysely, Updateable } from 'kysely';
import type { Logger } from 'pino';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import type { Page } from '../../platform/http/pagination.js';
import { toPage } from '../../platform/http/pagination.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { Storage } from '../../platform/storage/storage.js';
import type { CatalogCache } from './catalog.cache.js';
import { checkCursor } from './catalog.cursor.js';
import { CatalogErrors } from './catalog.errors.js';
import { type Actor, courseNotFound, courseUpdatedEvent, loadEditable } from './course.access.js';
import { trimText } from '../../platform/text.js';
import { canonicalLanguage, nonBlank, normaliseTags } from './course.text.js';
import {
  type CourseDetailView,
  type CourseSummaryView,
  courseDetail,
  summaries,
  type Urls,
} from './course.views.js';
import {
  type CourseRow,
  categoryExists,
  deleteCourse,
  findCourse,
  insertCourse,
  instructorsOfCourses,
  listOwnedCourses,
  refreshSearchDocument,
  replaceCourseInstructors,
  replaceCourseTags,
  tagsOfCourses,
  updateCourse,
} from './courses.queries.js';
import { findAsset } from './assets.queries.js';
import type { CreateCourseInput, UpdateCourseInput } from './courses.schemas.js';
import type { InstructorsService } from './instructors.service.js';
import type { CoInstructorsService } from './co-instructors.service.js';
import { removeCourseInstructor } from './co-instructors.queries.js';
import { CourseInstructorRemovedEvent } from './catalog.events.js';
import type { NewEvent } from '../../platform/messaging/types.js';
import type { CatalogTables, CourseStatus, CourseTable } from './tables.js';

type Db = Kysely<CatalogTables>;

export interface AuthoringServiceDeps {
  db: Db;
  cache: CatalogCache;
  urls: Urls;
  instructors: InstructorsService;
  coInstructors: CoInstructorsService;
  storage: Storage;
  logger: Logger;
}

/** Changes that alter what search finds, so the course's search document is rebuilt. */
const SEARCHED = ['title', 'subtitle', 'description', 'category', 'tags', 'instructors'];

/** An instructor's own courses: create, edit, delete a draft, list them in the studio. */
export function createAuthoringService(deps: AuthoringServiceDeps) {
  const { db, cache, urls, instructors, coInstructors, storage, logger } = deps;

  async function checkCategory(trx: Db, categoryId: string | null | undefined): Promise<void> {
    if (!categoryId) return;
    if (!(await categoryExists(trx, categoryId))) {
      throw AppError.validation(CatalogErrors.unknownCategory, 'The category does not exist.', [
        { field: '/body/categoryId', message: 'no such category' },
      ]);
    }
  }

  async function checkCover(trx: Db, courseId: string, assetId: string): Promise<void> {
    const asset = await findAsset(trx, assetId);
    if (asset?.course_id !== courseId || asset.kind !== 'image') {
      throw AppError.validation(
        CatalogErrors.invalidCover,
        'The cover must be an image uploaded to this course.',
        [{ field: '/body/coverAssetId', message: 'not an image asset of this course' }],
      );
    }
  }

  async function reload(trx: Db, courseId: string): Promise<CourseRow> {
    const row = await findCourse(trx, courseId);
    if (!row) throw courseNotFound();
    return row;
  }

  return {
    async create(actor: Actor, input: CreateCourseInput): Promise<CourseDetailView> {
      const title = nonBlank(input.title, 'title');
      // before the transaction: a first course asks identity for the instructor's name, and no
      // call to another module may run while this module holds a connection in a transaction
      await instructors.ensure(db, actor.userId);
      return inTransaction(db, async (trx) => {
        await checkCategory(trx, input.categoryId);
        const { id } = await insertCourse(trx, {
          owner_id: actor.userId,
          title,
          subtitle: input.subtitle === undefined ? '' : trimText(input.subtitle),
          description: input.description ?? '',
          category_id: input.categoryId ?? null,
          cover_asset_id: null,
          price_amount: input.price.amount,
          currency: input.price.currency,
          level: input.level,
          language: canonicalLanguage(input.language),
          review_note: null,
        });
        await replaceCourseInstructors(trx, id, [actor.userId]);
        await replaceCourseTags(trx, id, normaliseTags(input.tags ?? []));
        await refreshSearchDocument(trx, id);
        const row = await reload(trx, id);
        // co-instructors are invited, never listed without their consent; a draft is in no
        // public list or cache, so only the invitations are announced
        const invited = await coInstructors.inviteIn(
          trx,
          actor,
          row,
          input.instructorIds ?? [],
          '/body/instructorIds',
        );
        await enqueue(trx, 'catalog', invited);
        return courseDetail(trx, urls, row, true);
      });
    },

    async update(actor: Actor, courseId: string, input: UpdateCourseInput): Promise<CourseDetailView> {
      const { detail, changed } = await inTransaction(db, async (trx) => {
        const course = await loadEditable(trx, courseId, actor, { editableContent: true });
        const changes: string[] = [];
        const set: Updateable<CourseTable> = {};
        const title = input.title === undefined ? undefined : nonBlank(input.title, 'title');
        if (title !== undefined && title !== course.title) {
          set.title = title;
          changes.push('title');
        }
        const subtitle = input.subtitle === undefined ? undefined : trimText(input.subtitle);
        if (subtitle !== undefined && subtitle !== course.subtitle) {
          set.subtitle = subtitle;
          changes.push('subtitle');
        }
        if (input.description !== undefined && input.description !== course.description) {
          set.description = input.description;
          changes.push('description');
        }
        if (input.categoryId !== undefined && input.categoryId !== course.category_id) {
          await checkCategory(trx, input.categoryId);
          set.category_id = input.categoryId;
          changes.push('category');
        }
        if (
          input.price &&
          (input.price.amount !== course.price_amount || input.price.currency !== course.currency)
        ) {
          // orders copy the price when they are created, so this affects future orders only
          set.price_amount = input.price.amount;
          set.currency = input.price.currency;
          changes.push('price');
        }
        if (input.level !== undefined && input.level !== course.level) {
          set.level = input.level;
          changes.push('level');
        }
        const language = input.language === undefined ? undefined : canonicalLanguage(input.language);
        if (language !== undefined && language !== course.language) {
          set.language = language;
          changes.push('language');
        }
        if (input.coverAssetId !== undefined && input.coverAssetId !== course.cover_asset_id) {
          if (input.coverAssetId) await checkCover(trx, courseId, input.coverAssetId);
          set.cover_asset_id = input.coverAssetId;
          changes.push('cover');
        }
        if (input.tags) {
          const tags = normaliseTags(input.tags);
          const current = (await tagsOfCourses(trx, [courseId])).map((t) => t.name);
          if ([...tags].sort().join('\n') !== [...current].sort().join('\n')) {
            await replaceCourseTags(trx, courseId, tags);
            changes.push('tags');
          }
        }
        // the wanted list: names left out are removed now, new names are invited (see co-instructors)
        const other: NewEvent[] = [];
        if (input.instructorIds) {
          const wanted = new Set(input.instructorIds);
          const current = (await instructorsOfCourses(trx, [courseId])).map((i) => i.id);
          for (const id of current.filter((i) => i !== course.owner_id && !wanted.has(i))) {
            await removeCourseInstructor(trx, courseId, id);
            other.push(
              CourseInstructorRemovedEvent.create(courseId, {
                courseId,
                instructorId: id,
                actorId: actor.userId,
                left: false,
              }),
            );
          }
          if (other.length > 0) changes.push('instructors');
          other.push(
            ...(await coInstructors.inviteIn(trx, actor, course, input.instructorIds, '/body/instructorIds')),
          );
        }
        if (changes.length === 0) {
          await enqueue(trx, 'catalog', other);
          return { detail: await courseDetail(trx, urls, course, true), changed: false };
        }
        await updateCourse(trx, courseId, { ...set, updated_at: new Date() });
        if (changes.some((c) => SEARCHED.includes(c))) await refreshSearchDocument(trx, courseId);
        const row = await reload(trx, courseId);
        await enqueue(trx, 'catalog', [...other, await courseUpdatedEvent(trx, row, changes)]);
        return { detail: await courseDetail(trx, urls, row, true), changed: true };
      });
      if (changed) await cache.invalidateCourse(courseId);
      return detail;
    },

    /** Only a course that was never published can be deleted: nobody can have bought it. */
    async remove(actor: Actor, courseId: string): Promise<void> {
      const keys = await inTransaction(db, async (trx) => {
        const course = await loadEditable(trx, courseId, actor);
        if (course.status !== 'draft' || course.published_at !== null) {
          throw AppError.conflict(
            CatalogErrors.courseNotDeletable,
            'Only a draft that was never published can be deleted; archive a published course instead.',
          );
        }
        return deleteCourse(trx, courseId);
      });
      for (const key of keys) {
        await storage.delete(key).catch((err: unknown) => {
          logger.warn({ err, key }, 'could not delete a stored file of a deleted course');
        });
      }
    },

    /** The caller's own courses in every status. */
    async studio(
      actor: Actor,
      query: { status?: CourseStatus | undefined; limit?: number | undefined; cursor?: string | undefined },
    ): Promise<Page<CourseSummaryView>> {
      const limit = query.limit ?? 20;
      checkCursor(query.cursor, 'date');
      const rows = await listOwnedCourses(db, actor.userId, query.status, { limit, cursor: query.cursor });
      const page = toPage(
        rows,
        limit,
        (r) => [r.created_at.toISOString(), r.id],
        (r) => r,
      );
      return { data: await summaries(db, urls, page.data), nextCursor: page.nextCursor };
    },
  };
}

export type AuthoringService = ReturnType<typeof createAuthoringService>;
