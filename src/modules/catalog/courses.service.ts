import type { Kysely, Updateable } from 'kysely';
import type { Logger } from 'pino';
import { inTransaction } from '../../platform/db/database.js';
import { AppError, type FieldProblem } from '../../platform/errors.js';
import { type CursorValue, keyset, type Page, toPage } from '../../platform/http/pagination.js';
import { checkCursor } from './catalog.cursor.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { NewEvent } from '../../platform/messaging/types.js';
import type { Storage } from '../../platform/storage/storage.js';
import {
  type Actor,
  canEdit,
  courseNotFound,
  courseUpdatedEvent,
  isAdmin,
  isPublic,
  loadEditable,
} from './course.access.js';
import {
  type CourseDetailView,
  type CourseSummaryView,
  courseDetail,
  summaries,
  type Urls,
} from './course.views.js';
import type { CatalogCache } from './catalog.cache.js';
import {
  CourseArchivedEvent,
  CoursePublishedEvent,
  CourseRejectedEvent,
  CourseSubmittedEvent,
} from './catalog.events.js';
import {
  COURSE_COLUMNS,
  type CourseFilters,
  type CourseRow,
  categoryWithDescendants,
  findCourse,
  instructorsOfCourses,
  listPublished,
  listTags,
  refreshSearchDocument,
  replaceCourseInstructors,
  replaceCourseTags,
  SORTS,
  type SortKey,
  searchPublished,
  tagsOfCourses,
} from './courses.queries.js';
import type { CourseListQuery, CreateCourseInput, UpdateCourseInput } from './courses.schemas.js';
import type { InstructorsService } from './instructors.service.js';
import { buildTsquery, highlight, highlightNeedles, markdownToText, queryTerms, snippet } from './search.js';
import { spellingCorrections } from './search.queries.js';
import type { CatalogTables, CourseStatus, CourseTable } from './tables.js';

type Db = Kysely<CatalogTables>;

export interface CoursesServiceDeps {
  db: Db;
  read: Db;
  cache: CatalogCache;
  urls: Urls;
  instructors: InstructorsService;
  storage: Storage;
  logger: Logger;
}

export interface CourseForSale {
  id: string;
  title: string;
  ownerId: string;
  instructorIds: string[];
  price: { amount: number; currency: string };
  isFree: boolean;
  status: CourseStatus;
  /** Only published courses may be ordered. */
  onSale: boolean;
}

export type Transition = 'submit' | 'withdraw' | 'approve' | 'reject' | 'archive';

const TRANSITIONS: Record<Transition, { from: CourseStatus; to: CourseStatus; adminOnly: boolean }> = {
  submit: { from: 'draft', to: 'in_review', adminOnly: false },
  withdraw: { from: 'in_review', to: 'draft', adminOnly: false },
  approve: { from: 'in_review', to: 'published', adminOnly: true },
  reject: { from: 'in_review', to: 'draft', adminOnly: true },
  archive: { from: 'published', to: 'archived', adminOnly: false },
};

/** Tags are compared case-insensitively and without stray spaces: "Python " and "python" are one tag. */
export function normaliseTags(tags: string[]): string[] {
  const out = tags
    .map((t) => t.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase())
    .filter((t) => t.length > 0);
  return [...new Set(out)];
}

/** BCP 47 casing: language lower, script title, region upper ("zh-hans-cn" → "zh-Hans-CN"). */
export function canonicalLanguage(tag: string): string {
  return tag
    .split('-')
    .map((part, i) => {
      if (i === 0) return part.toLowerCase();
      if (part.length === 4) return `${part.slice(0, 1).toUpperCase()}${part.slice(1).toLowerCase()}`;
      if (part.length === 2) return part.toUpperCase();
      return part.toLowerCase();
    })
    .join('-');
}

function nonBlank(value: string, field: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) {
    throw AppError.validation('catalog.blank-field', `${field} cannot be blank.`, [
      { field: `/body/${field}`, message: 'must not be blank' },
    ]);
  }
  return trimmed;
}

const cursorValue = (row: CourseRow, sort: SortKey): CursorValue => {
  switch (sort) {
    case 'newest':
      return (row.published_at ?? row.created_at).toISOString();
    case 'popular':
      return row.popularity;
    case 'rating':
      return row.rating_x100;
    case 'price_asc':
    case 'price_desc':
      return row.price_amount;
  }
};

export function createCoursesService(deps: CoursesServiceDeps) {
  const { db, read, cache, urls, instructors, storage, logger } = deps;

  async function checkCategory(trx: Db, categoryId: string | null | undefined): Promise<void> {
    if (!categoryId) return;
    const found = await trx
      .selectFrom('catalog.categories')
      .select('id')
      .where('id', '=', categoryId)
      .executeTakeFirst();
    if (!found) {
      throw AppError.validation('catalog.unknown-category', 'The category does not exist.', [
        { field: '/body/categoryId', message: 'no such category' },
      ]);
    }
  }

  /** The owner first, then co-instructors, each of whom must have a catalog profile. */
  async function instructorList(trx: Db, ownerId: string, others: string[] | undefined): Promise<string[]> {
    const ids = [...new Set([ownerId, ...(others ?? [])])];
    const found = await trx.selectFrom('catalog.instructors').select('id').where('id', 'in', ids).execute();
    const missing = ids.filter((id) => !found.some((f) => f.id === id));
    if (missing.length > 0) {
      throw AppError.validation(
        'catalog.unknown-instructor',
        'Every co-instructor needs an instructor profile.',
        [{ field: '/body/instructorIds', message: `unknown: ${missing.join(', ')}` }],
      );
    }
    return ids;
  }

  async function checkCover(trx: Db, courseId: string, assetId: string): Promise<void> {
    const asset = await trx
      .selectFrom('catalog.assets')
      .select(['kind', 'course_id'])
      .where('id', '=', assetId)
      .executeTakeFirst();
    if (asset?.course_id !== courseId || asset.kind !== 'image') {
      throw AppError.validation(
        'catalog.invalid-cover',
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

  /** What stops a course from going to review, as problem fields the studio can point at. */
  async function completenessProblems(trx: Db, courseId: string): Promise<FieldProblem[]> {
    const lessons = await trx
      .selectFrom('catalog.lessons')
      .select(['id', 'title', 'kind', 'asset_id', 'body'])
      .where('course_id', '=', courseId)
      .execute();
    if (lessons.length === 0) return [{ field: '/chapters', message: 'The course has no lessons.' }];
    return lessons
      .filter((l) => (l.kind === 'article' ? !l.body?.trim() : l.asset_id === null))
      .map((l) => ({ field: `/lessons/${l.id}`, message: `Lesson "${l.title}" has no content yet.` }));
  }

  async function publicDetail(courseId: string): Promise<CourseDetailView | undefined> {
    return cache.course(courseId, async () => {
      const row = await findCourse(read, courseId);
      return row && isPublic(row.status) ? courseDetail(read, urls, row, false) : undefined;
    });
  }

  async function resolveFilters(query: CourseListQuery): Promise<CourseFilters> {
    return {
      categoryIds: query.category ? await categoryWithDescendants(read, query.category) : undefined,
      tag: query.tag ? normaliseTags([query.tag])[0] : undefined,
      free: query.free,
      minPrice: query.minPrice,
      maxPrice: query.maxPrice,
      currency: query.currency,
      level: query.level,
      language: query.language,
      instructorId: query.instructorId,
    };
  }

  async function search(query: CourseListQuery, q: string, limit: number): Promise<Page<CourseSummaryView>> {
    const terms = queryTerms(q);
    if (terms.length === 0) return { data: [], nextCursor: null };
    const sort = query.sort && query.sort !== 'relevance' ? query.sort : undefined;
    checkCursor(query.cursor, sort ? SORTS[sort].kind : 'number');
    const corrections = await spellingCorrections(read, terms);
    const tsquery = buildTsquery(terms, corrections);
    if (!tsquery) return { data: [], nextCursor: null };
    const rows = await searchPublished(read, tsquery, await resolveFilters(query), sort, {
      limit,
      cursor: query.cursor,
    });
    const page = toPage(
      rows,
      limit,
      (r) => [sort ? cursorValue(r, sort) : ((r as CourseRow & { score?: number }).score ?? 0), r.id],
      (r) => r,
    );
    const needles = highlightNeedles(terms, corrections);
    const views = await summaries(read, urls, page.data);
    return {
      nextCursor: page.nextCursor,
      data: views.map((view, i) => {
        const row = page.data[i];
        const subtitle = view.subtitle ? highlight(view.subtitle, needles) : '';
        const description = row ? snippet(markdownToText(row.description), needles) : undefined;
        return {
          ...view,
          highlight: {
            title: highlight(view.title, needles),
            ...(subtitle.includes('<mark>') ? { subtitle } : {}),
            ...(description ? { snippet: description } : {}),
          },
        };
      }),
    };
  }

  return {
    async create(actor: Actor, input: CreateCourseInput): Promise<CourseDetailView> {
      const title = nonBlank(input.title, 'title');
      // before the transaction: a first course asks identity for the instructor's name, and no
      // call to another module may run while this module holds a connection in a transaction
      await instructors.ensure(db, actor.userId);
      return inTransaction(db, async (trx) => {
        const instructorIds = await instructorList(trx, actor.userId, input.instructorIds);
        await checkCategory(trx, input.categoryId);
        const { id } = await trx
          .insertInto('catalog.courses')
          .values({
            owner_id: actor.userId,
            title,
            subtitle: input.subtitle?.trim() ?? '',
            description: input.description ?? '',
            category_id: input.categoryId ?? null,
            cover_asset_id: null,
            price_amount: input.price.amount,
            currency: input.price.currency,
            level: input.level,
            language: canonicalLanguage(input.language),
            review_note: null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await replaceCourseInstructors(trx, id, instructorIds);
        await replaceCourseTags(trx, id, normaliseTags(input.tags ?? []));
        await refreshSearchDocument(trx, id);
        // a draft is in no public list or cache: nothing to announce or invalidate yet
        return courseDetail(trx, urls, await reload(trx, id), true);
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
        const subtitle = input.subtitle?.trim();
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
        if (input.instructorIds) {
          const ids = await instructorList(trx, course.owner_id, input.instructorIds);
          const current = (await instructorsOfCourses(trx, [courseId])).map((i) => i.id);
          if (ids.join() !== current.join()) {
            await replaceCourseInstructors(trx, courseId, ids);
            changes.push('instructors');
          }
        }
        if (changes.length === 0)
          return { detail: await courseDetail(trx, urls, course, true), changed: false };
        await trx
          .updateTable('catalog.courses')
          .set({ ...set, updated_at: new Date() })
          .where('id', '=', courseId)
          .execute();
        if (
          changes.some((c) =>
            ['title', 'subtitle', 'description', 'category', 'tags', 'instructors'].includes(c),
          )
        ) {
          await refreshSearchDocument(trx, courseId);
        }
        const row = await reload(trx, courseId);
        await enqueue(trx, 'catalog', [courseUpdatedEvent(row, changes)]);
        return { detail: await courseDetail(trx, urls, row, true), changed: true };
      });
      if (changed) await cache.invalidateCourse(courseId);
      return detail;
    },

    async transition(
      actor: Actor,
      courseId: string,
      action: Transition,
      reason?: string,
    ): Promise<CourseDetailView> {
      const rule = TRANSITIONS[action];
      const detail = await inTransaction(db, async (trx) => {
        const course = await loadEditable(trx, courseId, actor);
        if (rule.adminOnly && !isAdmin(actor)) {
          throw AppError.forbidden('catalog.admin-required', 'Only an admin reviews courses.');
        }
        if (course.status !== rule.from) {
          throw AppError.conflict(
            'catalog.invalid-transition',
            `Cannot ${action} a course that is ${course.status.replace('_', ' ')}.`,
          );
        }
        if (action === 'submit') {
          const problems = await completenessProblems(trx, courseId);
          if (problems.length > 0) {
            throw new AppError(
              'conflict',
              'catalog.course-incomplete',
              'The course is not ready for review.',
              {
                fields: problems,
              },
            );
          }
        }
        const now = new Date();
        const set: Updateable<CourseTable> = { status: rule.to, updated_at: now };
        if (action === 'submit') set.submitted_at = now;
        if (action === 'approve') {
          set.published_at = course.published_at ?? now;
          set.review_note = null;
        }
        if (action === 'reject') {
          if (!reason?.trim()) {
            throw AppError.validation('catalog.reason-required', 'Say why the course is sent back.', [
              { field: '/body/reason', message: 'must not be blank' },
            ]);
          }
          set.review_note = reason.trim();
        }
        if (action === 'archive') set.archived_at = now;
        await trx.updateTable('catalog.courses').set(set).where('id', '=', courseId).execute();
        const row = await reload(trx, courseId);
        const events: NewEvent[] = [];
        switch (action) {
          case 'submit':
            events.push(
              CourseSubmittedEvent.create(courseId, { courseId, ownerId: row.owner_id, title: row.title }),
            );
            break;
          case 'withdraw':
            events.push(courseUpdatedEvent(row, ['status']));
            break;
          case 'reject':
            events.push(
              CourseRejectedEvent.create(courseId, {
                courseId,
                ownerId: row.owner_id,
                title: row.title,
                reason: reason ?? '',
              }),
            );
            break;
          case 'approve': {
            const instructorIds = (await instructorsOfCourses(trx, [courseId])).map((i) => i.id);
            events.push(
              CoursePublishedEvent.create(courseId, {
                courseId,
                ownerId: row.owner_id,
                instructorIds,
                title: row.title,
                priceAmount: row.price_amount,
                currency: row.currency,
                publishedAt: (row.published_at ?? now).toISOString(),
              }),
            );
            break;
          }
          case 'archive':
            events.push(
              CourseArchivedEvent.create(courseId, {
                courseId,
                ownerId: row.owner_id,
                archivedAt: now.toISOString(),
              }),
            );
            break;
        }
        await enqueue(trx, 'catalog', events);
        return courseDetail(trx, urls, row, true);
      });
      await cache.invalidateCourse(courseId);
      return detail;
    },

    /** Only a course that was never published can be deleted: nobody can have bought it. */
    async remove(actor: Actor, courseId: string): Promise<void> {
      const keys = await inTransaction(db, async (trx) => {
        const course = await loadEditable(trx, courseId, actor);
        if (course.status !== 'draft' || course.published_at !== null) {
          throw AppError.conflict(
            'catalog.course-not-deletable',
            'Only a draft that was never published can be deleted; archive a published course instead.',
          );
        }
        const assets = await trx
          .selectFrom('catalog.assets')
          .select('storage_key')
          .where('course_id', '=', courseId)
          .execute();
        // lessons first: they hold the assets, which the course delete cascades to
        await trx.deleteFrom('catalog.lessons').where('course_id', '=', courseId).execute();
        await trx.deleteFrom('catalog.courses').where('id', '=', courseId).execute();
        return assets.map((a) => a.storage_key);
      });
      for (const key of keys) {
        await storage.delete(key).catch((err: unknown) => {
          logger.warn({ err, key }, 'could not delete a stored file of a deleted course');
        });
      }
    },

    async detail(actor: Actor | undefined, courseId: string): Promise<CourseDetailView> {
      let view: CourseDetailView | undefined;
      if (!isAdmin(actor)) view = await publicDetail(courseId);
      if (!view || (actor && view.ownerId === actor.userId)) {
        // editors read the primary: they expect to see what they just changed
        const row = await findCourse(db, courseId);
        if (row && canEdit(actor, row)) view = await courseDetail(db, urls, row, true);
      }
      if (!view) throw courseNotFound();
      if (!actor) return view;
      const saved = await read
        .selectFrom('catalog.favourites')
        .select('course_id')
        .where('user_id', '=', actor.userId)
        .where('course_id', '=', courseId)
        .executeTakeFirst();
      return { ...view, favourited: saved !== undefined };
    },

    async list(query: CourseListQuery): Promise<Page<CourseSummaryView>> {
      const limit = query.limit ?? 20;
      const q = query.q?.trim();
      if (q) return search(query, q, limit);
      const sort: SortKey = query.sort && query.sort !== 'relevance' ? query.sort : 'newest';
      checkCursor(query.cursor, SORTS[sort].kind);
      const params = { ...query, q: undefined, sort, limit };
      return cache.listing('list', params, async () => {
        const filters = await resolveFilters(query);
        const rows = await listPublished(read, filters, sort, { limit, cursor: query.cursor });
        const page = toPage(
          rows,
          limit,
          (r) => [cursorValue(r, sort), r.id],
          (r) => r,
        );
        return { data: await summaries(read, urls, page.data), nextCursor: page.nextCursor };
      });
    },

    /** The caller's own courses in every status. */
    async studio(
      actor: Actor,
      query: { status?: CourseStatus | undefined; limit?: number | undefined; cursor?: string | undefined },
    ): Promise<Page<CourseSummaryView>> {
      const limit = query.limit ?? 20;
      checkCursor(query.cursor, 'date');
      let q = db
        .selectFrom('catalog.courses as c')
        .select(COURSE_COLUMNS)
        .where('c.owner_id', '=', actor.userId);
      if (query.status) q = q.where('c.status', '=', query.status);
      const rows = await keyset(q, {
        columns: ['c.created_at', 'c.id'],
        direction: 'desc',
        limit,
        cursor: query.cursor,
      }).execute();
      const page = toPage(
        rows,
        limit,
        (r) => [r.created_at.toISOString(), r.id],
        (r) => r,
      );
      return { data: await summaries(db, urls, page.data), nextCursor: page.nextCursor };
    },

    /** Courses waiting for an admin, oldest submission first. */
    async reviewQueue(query: {
      limit?: number | undefined;
      cursor?: string | undefined;
    }): Promise<Page<CourseSummaryView>> {
      const limit = query.limit ?? 20;
      checkCursor(query.cursor, 'date');
      const rows = await keyset(
        db.selectFrom('catalog.courses as c').select(COURSE_COLUMNS).where('c.status', '=', 'in_review'),
        { columns: ['c.submitted_at', 'c.id'], direction: 'asc', limit, cursor: query.cursor },
      ).execute();
      const page = toPage(
        rows,
        limit,
        (r) => [(r.submitted_at ?? r.created_at).toISOString(), r.id],
        (r) => r,
      );
      return { data: await summaries(db, urls, page.data), nextCursor: page.nextCursor };
    },

    async tags(limit: number) {
      return cache.listing('tags', { limit }, async () =>
        (await listTags(read, limit)).map((t) => ({ name: t.name, courseCount: t.course_count })),
      );
    },

    /** For commerce: the current price, read from the primary so an order never sees an old one. */
    async forSale(courseId: string): Promise<CourseForSale | undefined> {
      const row = await findCourse(db, courseId);
      if (!row) return undefined;
      const instructorIds = (await instructorsOfCourses(db, [courseId])).map((i) => i.id);
      return {
        id: row.id,
        title: row.title,
        ownerId: row.owner_id,
        instructorIds,
        price: { amount: row.price_amount, currency: row.currency },
        isFree: row.price_amount === 0,
        status: row.status,
        onSale: row.status === 'published',
      };
    },
  };
}

export type CoursesService = ReturnType<typeof createCoursesService>;
