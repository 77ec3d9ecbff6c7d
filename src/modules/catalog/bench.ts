import { randomUUID } from 'node:crypto';
import { encodeCursor } from '../../platform/http/pagination.js';
import type { BenchRequest, BenchScenario } from '../../platform/module.js';

interface CoursePage {
  data: { id: string; title: string; publishedAt: string | null }[];
  nextCursor: string | null;
}

const LIST = '/api/v1/courses';
const PAGE = 20;
/**
 * Distinct pages per uncached scenario: more than warm-up plus measurement can send on a small
 * machine (the harness notes it when a run needs more). Each page the app loads is written to
 * the cache (60 s), so a run leaves up to this many list pages there.
 */
const POOL = 40_000;
const DAY_MS = 24 * 3600 * 1000;
/** The highest id: a cursor (t, this) continues with the first course published before t. */
const LAST_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}

const listPage = async (baseUrl: string, query: string): Promise<CoursePage> =>
  (await getJson(`${baseUrl}${LIST}?${query}`)) as CoursePage;

/** A cursor of the newest-first list, as the API issues them: (published at, id). */
const newestCursor = (at: number, id: string) => encodeCursor([new Date(at).toISOString(), id]);

/**
 * The span of publication times from which the newest-first list (with `filter`) still has a
 * full page: from the oldest such moment, found by bisecting over synthetic cursors, to the
 * newest course.
 */
async function fullPageSpan(baseUrl: string, filter: string): Promise<{ from: number; to: number }> {
  const first = await listPage(baseUrl, `${filter}limit=1`);
  const newest = first.data[0]?.publishedAt;
  if (!newest) throw new Error(`no published course matches "${filter}": seed the catalog first`);
  const to = Date.parse(newest);
  const full = async (at: number) =>
    (await listPage(baseUrl, `${filter}limit=${PAGE}&cursor=${newestCursor(at, LAST_ID)}`)).data.length ===
    PAGE;
  if (!(await full(to + 1))) {
    throw new Error(`fewer than ${PAGE + 1} published courses match "${filter}"`);
  }
  // a moment before which there is less than a page, then bisect down to the millisecond
  let step = DAY_MS;
  while (await full(to - step)) {
    step *= 2;
    if (step > 200 * 365 * DAY_MS) throw new Error('could not find the oldest full page');
  }
  let lo = to - step;
  let hi = to + 1;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await full(mid)) hi = mid;
    else lo = mid;
  }
  return { from: hi, to };
}

/**
 * Newest-first pages from random points of the catalog, one distinct cursor per request: the
 * list cache keys on the whole query, cursor included, so every request is a miss and runs the
 * keyset query (plus the instructors, tags and categories of the page). Every page is full.
 */
async function randomPages(baseUrl: string, filter: string): Promise<BenchRequest> {
  const { from, to } = await fullPageSpan(baseUrl, filter);
  const paths = Array.from(
    { length: POOL },
    () =>
      `${LIST}?${filter}limit=${PAGE}&cursor=${newestCursor(from + Math.floor(Math.random() * (to - from)), randomUUID())}`,
  );
  // a probe of the first and a check that it is a real, full page
  const probe = (await getJson(`${baseUrl}${paths[0] ?? ''}`)) as CoursePage;
  if (probe.data.length !== PAGE) throw new Error(`a random page had ${probe.data.length} courses`);
  return { path: `${LIST}?${filter}limit=${PAGE}&cursor=<random>`, paths };
}

/**
 * Public reads, at whatever size the catalog has (`npm run bench -- --courses 100000`). With a
 * warm cache: the first page and a course page, the paths every visitor hits first. Uncached: the
 * list's database path, which must stay flat as the catalog grows, and search.
 */
export const catalogBench: BenchScenario[] = [
  {
    name: 'course list, newest first page, warm cache',
    async prepare({ baseUrl }) {
      const path = `${LIST}?limit=${PAGE}`;
      await getJson(`${baseUrl}${path}`);
      return { path };
    },
  },
  {
    // the most expensive course is a demo course at any catalog size (bulk courses cost less),
    // so both sizes measure the same page: two chapters, lessons with files
    name: 'course detail with outline, warm cache',
    async prepare({ baseUrl }) {
      const top = await listPage(baseUrl, 'sort=price_desc&limit=1');
      const id = top.data[0]?.id;
      if (!id) throw new Error('no published course: seed the catalog first');
      const path = `${LIST}/${id}`;
      await getJson(`${baseUrl}${path}`);
      return { path };
    },
  },
  {
    name: 'course list, newest, random page, uncached (new cursor each request)',
    async prepare({ baseUrl }) {
      return randomPages(baseUrl, '');
    },
  },
  {
    // a category with its sub-categories, and a second condition: rows are filtered while the
    // newest index is walked (28 of 55 demo courses, 40 % of bulk ones match before "paid")
    name: 'course list, category tree + paid, random page, uncached',
    async prepare({ baseUrl }) {
      return randomPages(baseUrl, 'category=programming&free=false&');
    },
  },
  {
    name: 'full-text search (not cached)',
    async prepare({ baseUrl }) {
      const path = `${LIST}?limit=${PAGE}&q=${encodeURIComponent('python 入门')}`;
      await getJson(`${baseUrl}${path}`);
      return { path };
    },
  },
];
