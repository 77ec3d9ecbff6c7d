import type { Kysely } from 'kysely';
import { type CursorValue, type Page, toPage } from '../../platform/http/pagination.js';
import type { CatalogCache, PublicAnswer } from './catalog.cache.js';
import { checkCursor } from './catalog.cursor.js';
import { type Actor, canEdit, courseNotFound, isAdmin, isPublic } from './course.access.js';
import { normaliseTags } from './course.text.js';
import {
  type CourseDetailView,
  type CourseSummaryView,
  courseDetail,
  summaries,
  type Urls,
} from './course.views.js';
import {
  type CourseFilters,
  type CourseRow,
  categoryWithDescendants,
  findCourse,
  hasAnyCourse,
  isFavourite,
  listPublished,
  listTags,
  SORTS,
  type SortKey,
  searchPublished,
} from './courses.queries.js';
import type { CourseListQuery } from './courses.schemas.js';
import { buildTsquery, highlight, highlightNeedles, markdownToText, queryTerms, snippet } from './search.js';
import { spellingCorrections } from './search.queries.js';
import type { CatalogTables } from './tables.js';

type Db = Kysely<CatalogTables>;

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

/** What learners see: the course page, the filtered list, search, tags. Reads go to replicas. */
export function createBrowseService(deps: { db: Db; read: Db; cache: CatalogCache; urls: Urls }) {
  const { db, read, cache, urls } = deps;

  async function loadPublicDetail(courseId: string): Promise<CourseDetailView | undefined> {
    const row = await findCourse(read, courseId);
    return row && isPublic(row.status) ? courseDetail(read, urls, row, false) : undefined;
  }

  /** The public page's data, for signed-in readers (who also get `favourited`). */
  const publicDetail = (courseId: string) => cache.course(courseId, () => loadPublicDetail(courseId));

  async function loadList(
    query: CourseListQuery,
    sort: SortKey,
    limit: number,
  ): Promise<Page<CourseSummaryView>> {
    const filters = await resolveFilters(query);
    const rows = await listPublished(read, filters, sort, { limit, cursor: query.cursor });
    const page = toPage(
      rows,
      limit,
      (r) => [cursorValue(r, sort), r.id],
      (r) => r,
    );
    return { data: await summaries(read, urls, page.data), nextCursor: page.nextCursor };
  }

  /** The sort a list without search uses; checks the cursor belongs to it. */
  function listSort(query: CourseListQuery): SortKey {
    const sort: SortKey = query.sort && query.sort !== 'relevance' ? query.sort : 'newest';
    checkCursor(query.cursor, SORTS[sort].kind);
    return sort;
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
      return { ...view, favourited: await isFavourite(read, actor.userId, courseId) };
    },

    /** Anonymous readers' course page, for the response cache; a course they may not see is a 404. */
    publicDetailAnswer(courseId: string): PublicAnswer {
      return {
        of: { course: courseId },
        build: async () => {
          const view = await loadPublicDetail(courseId);
          if (!view) throw courseNotFound();
          return view;
        },
      };
    },

    /**
     * The public list for the response cache, or undefined for a search (not cached: its keys
     * are unbounded and the index answers it). A bad cursor throws here, before any cache.
     */
    listAnswer(query: CourseListQuery): PublicAnswer | undefined {
      if (query.q?.trim()) return undefined;
      const sort = listSort(query);
      const limit = query.limit ?? 20;
      return {
        of: {
          // made only when the URL's key is not remembered (a copy of the parsed query costs a
          // warm answer more than the rest of its lookup)
          list: () => ({ ...query, q: undefined, sort, limit }),
          afterCursor: query.cursor !== undefined,
        },
        build: () => loadList(query, sort, limit),
      };
    },

    async list(query: CourseListQuery): Promise<Page<CourseSummaryView>> {
      const limit = query.limit ?? 20;
      const q = query.q?.trim();
      if (q) return search(query, q, limit);
      const sort = listSort(query);
      return cache.listing('list', { ...query, q: undefined, sort, limit }, () =>
        loadList(query, sort, limit),
      );
    },

    /** Whether any course exists, in any status (the primary: seeding asks right after writes). */
    hasCourses: () => hasAnyCourse(db),

    async tags(limit: number) {
      return cache.listing('tags', { limit }, async () =>
        (await listTags(read, limit)).map((t) => ({ name: t.name, courseCount: t.course_count })),
      );
    },
  };
}

export type BrowseService = ReturnType<typeof createBrowseService>;
