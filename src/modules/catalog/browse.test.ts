import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp, type LecternApp } from '../../app.js';
import { randomUUID } from 'node:crypto';
import { waitFor } from '../../platform/messaging/test-support.js';
import {
  type CatalogTest,
  eventApplied,
  pageIds,
  settleEvents,
  startCatalog,
} from './catalog.test-support.js';
import { createCatalogModule } from './index.js';

let t: CatalogTest;
const ids: Record<string, string> = {};

interface Summary {
  id: string;
  title: string;
  price: { amount: number };
  highlight?: { title: string; subtitle?: string; snippet?: string };
}
interface Page {
  data: Summary[];
  nextCursor: string | null;
}

const list = async (query: string, as?: CatalogTest['admin']) => {
  const response = await t.request('GET', `/api/v1/courses?limit=100&${query}`, { as });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<Page>();
};
const titles = async (query: string) => (await list(query)).data.map((c) => c.title).sort();

// identity's user lookup, as registry.ts wires it: the catalog copies a new instructor's name from it
const names = new Map<string, string>();

beforeAll(async () => {
  t = await startCatalog({ instructors: { displayNameOf: (id) => Promise.resolve(names.get(id)) } });
  names.set(t.otherInstructor.id, 'Alice Wang');
  const category = async (slug: string, parentId?: string) =>
    (
      await t.request('POST', '/api/v1/categories', {
        as: t.admin,
        body: { slug, name: slug, ...(parentId ? { parentId } : {}) },
      })
    ).json<{ id: string }>().id;
  const programming = await category('programming');
  const python = await category('python', programming);
  const design = await category('design');

  const price = (amount: number) => ({ amount, currency: 'CNY' });
  // published in this order, so "newest" is the reverse
  ids.pythonZh = (
    await t.publishedCourse({
      title: 'Python编程入门',
      subtitle: '零基础也能学会',
      price: price(9900),
      level: 'beginner',
      language: 'zh-CN',
      tags: ['python', '入门'],
      categoryId: python,
    })
  ).id;
  ids.pythonEn = (
    await t.publishedCourse({
      title: 'Advanced Python Patterns',
      price: price(29900),
      level: 'advanced',
      language: 'en',
      tags: ['Python'],
      categoryId: python,
    })
  ).id;
  ids.jsZh = (
    await t.publishedCourse({
      title: 'JavaScript异步编程',
      price: price(0),
      level: 'intermediate',
      language: 'zh-CN',
      tags: ['javascript'],
      categoryId: programming,
    })
  ).id;
  ids.figma = (
    await t.publishedCourse({
      title: 'Figma Basics',
      price: price(4900),
      level: 'beginner',
      language: 'en',
      tags: ['design'],
      categoryId: design,
    })
  ).id;
  ids.asyncJs = (
    await t.publishedCourse(
      {
        title: 'Asynchronous JavaScript',
        price: price(19900),
        level: 'intermediate',
        language: 'en-US',
        tags: ['javascript'],
        categoryId: programming,
      },
      t.otherInstructor,
    )
  ).id;
  ids.wrangling = (
    await t.publishedCourse({
      title: 'Data Wrangling',
      description: 'We use **python** throughout, with pandas.',
      price: price(15900),
      level: 'intermediate',
      language: 'en',
      tags: ['data'],
      categoryId: programming,
    })
  ).id;
  await t.draftCourse({ title: 'Python draft, never listed' });
});

afterAll(async () => {
  await t.app.stop();
});

describe('filters', () => {
  it('filters by category including sub-categories', async () => {
    expect(await titles('category=python')).toEqual(['Advanced Python Patterns', 'Python编程入门']);
    expect(await titles('category=programming')).toEqual([
      'Advanced Python Patterns',
      'Asynchronous JavaScript',
      'Data Wrangling',
      'JavaScript异步编程',
      'Python编程入门',
    ]);
    expect(await titles('category=no-such-category')).toEqual([]);
  });

  it('filters by tag, price, level, language and instructor', async () => {
    expect(await titles('tag=PYTHON')).toEqual(['Advanced Python Patterns', 'Python编程入门']);
    expect(await titles('free=true')).toEqual(['JavaScript异步编程']);
    expect((await titles('free=false')).length).toBe(5);
    expect(await titles('minPrice=5000&maxPrice=20000')).toEqual([
      'Asynchronous JavaScript',
      'Data Wrangling',
      'Python编程入门',
    ]);
    expect(await titles('level=advanced')).toEqual(['Advanced Python Patterns']);
    expect(await titles('language=zh')).toEqual(['JavaScript异步编程', 'Python编程入门']);
    expect(await titles('language=en')).toEqual([
      'Advanced Python Patterns',
      'Asynchronous JavaScript',
      'Data Wrangling',
      'Figma Basics',
    ]);
    expect(await titles(`instructorId=${t.otherInstructor.id}`)).toEqual(['Asynchronous JavaScript']);
    expect(await titles('category=programming&free=false&level=intermediate')).toEqual([
      'Asynchronous JavaScript',
      'Data Wrangling',
    ]);
  });

  it('lists tags of published courses by use', async () => {
    const tags = (await t.request('GET', '/api/v1/tags')).json<{
      data: { name: string; courseCount: number }[];
    }>().data;
    expect(tags.slice(0, 2)).toEqual([
      { name: 'javascript', courseCount: 2 },
      { name: 'python', courseCount: 2 },
    ]);
    expect(tags.map((tag) => tag.name)).not.toContain('Python');
  });

  it('refuses bad filter values with 400', async () => {
    for (const query of [
      'level=expert',
      'minPrice=-1',
      'free=maybe',
      'instructorId=nope',
      'sort=cheapest',
      'limit=1000',
    ]) {
      const response = await t.request('GET', `/api/v1/courses?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().code).toBe('request.invalid');
    }
  });
});

describe('sorting and pagination', () => {
  it('sorts by price both ways and by newest', async () => {
    const asc = (await list('sort=price_asc')).data.map((c) => c.price.amount);
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    const desc = (await list('sort=price_desc')).data.map((c) => c.price.amount);
    expect(desc).toEqual([...asc].reverse());
    expect(pageIds(await t.request('GET', '/api/v1/courses?sort=newest&limit=100'))).toEqual([
      ids.wrangling,
      ids.asyncJs,
      ids.figma,
      ids.jsZh,
      ids.pythonEn,
      ids.pythonZh,
    ]);
  });

  it('sorts by popularity and rating, which other modules keep up to date', async () => {
    const db = t.app.platform.database.db.withTables<{
      'catalog.courses': { id: string; popularity: number; rating_x100: number };
    }>();
    await db
      .updateTable('catalog.courses')
      .set({ popularity: 500, rating_x100: 420 })
      .where('id', '=', ids.figma ?? '')
      .execute();
    await db
      .updateTable('catalog.courses')
      .set({ popularity: 900, rating_x100: 390 })
      .where('id', '=', ids.jsZh ?? '')
      .execute();
    expect(pageIds(await t.request('GET', '/api/v1/courses?sort=popular&limit=2'))).toEqual([
      ids.jsZh,
      ids.figma,
    ]);
    const rated = await list('sort=rating');
    expect(rated.data.slice(0, 2).map((c) => c.id)).toEqual([ids.figma, ids.jsZh]);
  });

  it('walks every page with keyset cursors, without gaps or repeats', async () => {
    for (const sort of ['newest', 'price_asc', 'price_desc', 'popular', 'rating']) {
      const all = pageIds(await t.request('GET', `/api/v1/courses?sort=${sort}&limit=100`));
      const walked: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `sort=${sort}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page: Page = (await t.request('GET', `/api/v1/courses?${query}`)).json<Page>();
        expect(page.data.length).toBeLessThanOrEqual(2);
        walked.push(...page.data.map((c) => c.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(walked, sort).toEqual(all);
      expect(all).toHaveLength(6);
    }
  });

  it('refuses a forged cursor or one from another sort order with 400', async () => {
    const first = (await t.request('GET', '/api/v1/courses?sort=newest&limit=1')).json<Page>();
    expect(first.nextCursor).toBeTruthy();
    for (const query of [
      `sort=price_asc&cursor=${first.nextCursor ?? ''}`,
      'cursor=bm90LWpzb24',
      'cursor=WyJ4IiwxXQ',
    ]) {
      const response = await t.request('GET', `/api/v1/courses?limit=1&${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().code).toBe('request.bad-cursor');
    }
  });
});

describe('cursor shapes', () => {
  const cursorOf = (values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');
  const uuid = '0f8b1b8e-3d5c-4a8f-9d1e-2b7c6a5d4e3f';
  // a string where a number belongs, a year alone, a fraction, and one past PostgreSQL's integer
  const forged = [
    ['0', uuid],
    ['2026', uuid],
    [1.5, uuid],
    [2147483648, uuid],
  ];

  it('refuses cursor values the sort column cannot hold on every paginated route, with 400', async () => {
    const courseId = ids.pythonZh ?? '';
    const routes: { url: string; as?: CatalogTest['admin']; bad?: unknown[][] }[] = [
      ...['newest', 'popular', 'rating', 'price_asc', 'price_desc'].map((sort) => ({
        url: `/api/v1/courses?sort=${sort}`,
      })),
      { url: '/api/v1/courses?q=python&sort=price_asc' },
      // ranked search pages by a float score: fractions and large numbers are valid ranks there
      {
        url: '/api/v1/courses?q=python',
        bad: [
          ['0', uuid],
          ['2026', uuid],
          [0.5, 'not-a-uuid'],
        ],
      },
      { url: '/api/v1/studio/courses', as: t.instructor },
      { url: '/api/v1/review/courses', as: t.admin },
      { url: '/api/v1/categories' },
      { url: `/api/v1/courses/${courseId}/assets`, as: t.admin },
      { url: '/api/v1/me/favourites', as: t.learner },
    ];
    for (const { url, as, bad = forged } of routes) {
      for (const values of bad) {
        const sep = url.includes('?') ? '&' : '?';
        const response = await t.request('GET', `${url}${sep}limit=1&cursor=${cursorOf(values)}`, { as });
        expect(response.statusCode, `${url} ${JSON.stringify(values)}: ${response.body}`).toBe(400);
        expect(response.json().code).toBe('request.bad-cursor');
      }
    }
  });

  it('still pages with the cursors it issues', async () => {
    for (const { url, as } of [
      { url: '/api/v1/courses?sort=popular' },
      { url: '/api/v1/courses?q=python' },
      { url: '/api/v1/studio/courses', as: t.instructor },
      { url: '/api/v1/categories' },
    ]) {
      const sep = url.includes('?') ? '&' : '?';
      const first = (await t.request('GET', `${url}${sep}limit=1`, { as })).json<Page>();
      expect(first.nextCursor, url).toBeTruthy();
      const next = await t.request('GET', `${url}${sep}limit=1&cursor=${first.nextCursor ?? ''}`, { as });
      expect(next.statusCode, url).toBe(200);
      expect(next.json<Page>().data).toHaveLength(1);
    }
  });
});

describe('search', () => {
  it('finds a two-character Chinese word inside a title, with highlights', async () => {
    const result = await list(`q=${encodeURIComponent('编程')}`);
    expect(result.data.map((c) => c.title).sort()).toEqual(['JavaScript异步编程', 'Python编程入门']);
    const python = result.data.find((c) => c.id === ids.pythonZh);
    expect(python?.highlight?.title).toBe('Python<mark>编程</mark>入门');
    expect(await titles(`q=${encodeURIComponent('Python编程')}`)).toEqual(['Python编程入门']);
    expect(await titles(`q=${encodeURIComponent('入门')}`)).toEqual(['Python编程入门']);
    expect(await titles(`q=${encodeURIComponent('零基础')}`)).toEqual(['Python编程入门']);
  });

  it('finds English words by prefix and forgives typos', async () => {
    expect(await titles('q=async')).toEqual(['Asynchronous JavaScript']);
    expect(await titles('q=javascirpt')).toEqual(['Asynchronous JavaScript', 'JavaScript异步编程']);
    const typo = await list('q=pyhton');
    expect(typo.data.length).toBe(3);
    expect(typo.data[0]?.highlight?.title).toContain('<mark>Python</mark>');
    expect(await titles('q=zzqxv')).toEqual([]);
  });

  it('ranks title matches above description matches and makes a snippet', async () => {
    const result = await list('q=python');
    expect(result.data.map((c) => c.id).slice(-1)).toEqual([ids.wrangling]);
    expect(result.data.at(-1)?.highlight?.snippet).toContain('<mark>python</mark>');
  });

  it('searches instructor names and combines with filters', async () => {
    expect(await titles('q=alice')).toEqual(['Asynchronous JavaScript']);
    expect(await titles('q=python&level=advanced')).toEqual(['Advanced Python Patterns']);
    expect(await titles(`q=python&sort=price_asc`)).toEqual([
      'Advanced Python Patterns',
      'Data Wrangling',
      'Python编程入门',
    ]);
    expect((await list('q=python&sort=price_asc')).data.map((c) => c.price.amount)).toEqual([
      9900, 15900, 29900,
    ]);
    expect(await titles(`q=${encodeURIComponent('!!!')}`)).toEqual([]);
  });

  it('pages through ranked results', async () => {
    const all = pageIds(await t.request('GET', '/api/v1/courses?q=python&limit=100'));
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = (
        await t.request('GET', `/api/v1/courses?q=python&limit=1${cursor ? `&cursor=${cursor}` : ''}`)
      ).json<Page>();
      walked.push(...page.data.map((c) => c.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(walked).toEqual(all);
  });

  it('sees a new title at once', async () => {
    await t.request('PATCH', `/api/v1/courses/${ids.figma}`, {
      as: t.instructor,
      body: { subtitle: '界面设计基础' },
    });
    expect(await titles(`q=${encodeURIComponent('界面')}`)).toEqual(['Figma Basics']);
  });
});

describe('cache', () => {
  const setTitleBehindTheCache = async (id: string, title: string) => {
    await t.app.platform.database.db
      .withTables<{ 'catalog.courses': { id: string; title: string } }>()
      .updateTable('catalog.courses')
      .set({ title })
      .where('id', '=', id)
      .execute();
  };

  it('serves public reads from the cache and drops them on an edit', async () => {
    const { id } = await t.publishedCourse({ title: 'Cached course' });
    await settleEvents(t.app);
    const detail = () => t.request('GET', `/api/v1/courses/${id}`).then((r) => r.json<Summary>().title);
    const inList = async () => (await list('sort=newest')).data.find((c) => c.id === id)?.title;
    expect(await detail()).toBe('Cached course');
    expect(await inList()).toBe('Cached course');

    // a change the catalog did not make is invisible while the entries live: the reads are cached
    await setTitleBehindTheCache(id, 'Changed behind the cache');
    expect(await detail()).toBe('Cached course');
    expect(await inList()).toBe('Cached course');

    await t.request('PATCH', `/api/v1/courses/${id}`, { as: t.instructor, body: { title: 'Edited course' } });
    expect(await detail()).toBe('Edited course');
    expect(await inList()).toBe('Edited course');
  });

  it('drops entries again when the catalog’s own events arrive', async () => {
    const { id } = await t.publishedCourse({ title: 'Evented course' });
    await settleEvents(t.app);
    const detail = () => t.request('GET', `/api/v1/courses/${id}`).then((r) => r.json<Summary>().title);
    expect(await detail()).toBe('Evented course');
    await setTitleBehindTheCache(id, 'Seen after the event');
    expect(await detail()).toBe('Evented course');
    await t.app.platform.bus.publish({
      id: randomUUID(),
      type: 'catalog.course.updated',
      version: 1,
      occurredAt: new Date().toISOString(),
      aggregateId: id,
      data: {},
    });
    await waitFor(
      async () => (await detail()) === 'Seen after the event',
      'the event to invalidate the cache',
    );
  });

  it('invalidates for every instance that shares the cache', async () => {
    const { id } = await t.publishedCourse({ title: 'Shared course' });
    await settleEvents(t.app);
    // a second instance: its own HTTP server and module, the same database and cache
    const other: LecternApp = await buildApp(t.app.platform, [createCatalogModule(t.app.platform)], {
      keys: t.app.tokens.keys,
      worker: false,
    });
    try {
      const read = async () =>
        (await other.app.inject({ method: 'GET', url: `/api/v1/courses/${id}` })).json<Summary>().title;
      expect(await read()).toBe('Shared course');
      await setTitleBehindTheCache(id, 'Not through the API');
      expect(await read()).toBe('Shared course');
      await t.request('PATCH', `/api/v1/courses/${id}`, {
        as: t.instructor,
        body: { title: 'Edited on instance A' },
      });
      expect(await read()).toBe('Edited on instance A');
    } finally {
      await other.close();
    }
  });
});

describe('response cache', () => {
  it('answers the list and an anonymous course page with a strong ETag, 304 while unchanged', async () => {
    const { id } = await t.publishedCourse({ title: 'Tagged answer' });
    await settleEvents(t.app);
    for (const url of ['/api/v1/courses?sort=newest&limit=100', `/api/v1/courses/${id}`]) {
      const first = await t.request('GET', url);
      expect(first.statusCode, url).toBe(200);
      const etag = String(first.headers.etag);
      expect(etag, url).toMatch(/^"[\w-]{27}"$/);
      expect(first.body).toContain('Tagged answer');

      const unchanged = await t.request('GET', url, { headers: { 'if-none-match': etag } });
      expect(unchanged.statusCode, url).toBe(304);
      expect(unchanged.body).toBe('');
      expect(unchanged.headers.etag).toBe(etag);
      // another representation's tag is no match
      const other = await t.request('GET', url, { headers: { 'if-none-match': '"something-else"' } });
      expect(other.statusCode).toBe(200);
      expect(other.body).toBe(first.body);
    }

    const before = await t.request('GET', `/api/v1/courses/${id}`);
    await t.request('PATCH', `/api/v1/courses/${id}`, {
      as: t.instructor,
      body: { title: 'Retagged answer' },
    });
    for (const url of ['/api/v1/courses?sort=newest&limit=100', `/api/v1/courses/${id}`]) {
      const after = await t.request('GET', url, {
        headers: { 'if-none-match': String(before.headers.etag) },
      });
      expect(after.statusCode, url).toBe(200);
      expect(after.body).toContain('Retagged answer');
      expect(after.headers.etag).not.toBe(before.headers.etag);
    }
  });

  it('keys a list by its query, not by the URL’s spelling, and keeps different queries apart', async () => {
    await t.publishedCourse({ title: 'Keyed answer' });
    await t.publishedCourse({ title: 'Another keyed answer' });
    await settleEvents(t.app);
    const first = await t.request('GET', '/api/v1/courses?limit=5&sort=newest');
    expect(first.statusCode).toBe(200);
    const etag = String(first.headers.etag);
    // the same query in another order, asked twice (the second time from the remembered key)
    for (let i = 0; i < 2; i++) {
      const reordered = await t.request('GET', '/api/v1/courses?sort=newest&limit=5', {
        headers: { 'if-none-match': etag },
      });
      expect(reordered.statusCode).toBe(304);
    }
    // another page size is another answer, however often the first one was asked
    const other = await t.request('GET', '/api/v1/courses?limit=1&sort=newest', {
      headers: { 'if-none-match': etag },
    });
    expect(other.statusCode).toBe(200);
    expect(other.json<{ data: unknown[] }>().data).toHaveLength(1);
    expect(other.headers.etag).not.toBe(etag);
  });

  it('keeps a signed-in reader’s page out of the shared answer', async () => {
    const { id } = await t.publishedCourse({ title: 'Personal page' });
    await settleEvents(t.app);
    const anonymous = await t.request('GET', `/api/v1/courses/${id}`);
    expect(anonymous.json().favourited).toBeNull();
    const signedIn = await t.request('GET', `/api/v1/courses/${id}`, { as: t.learner });
    expect(signedIn.json().favourited).toBe(false);
    expect(signedIn.headers.etag).toBeUndefined();
  });

  it('does not cache a 404, and answers from the database when the cache fails', async () => {
    const draft = await t.draftCourse({ title: 'Not yet public' });
    expect((await t.request('GET', `/api/v1/courses/${draft}`)).statusCode).toBe(404);
    expect((await t.request('GET', `/api/v1/courses/${draft}`, { as: t.instructor })).statusCode).toBe(200);

    const { id } = await t.publishedCourse({ title: 'Cache down' });
    await settleEvents(t.app);
    const failing = vi.spyOn(t.app.platform.cache, 'get').mockRejectedValue(new Error('cache down'));
    try {
      const page = await t.request('GET', '/api/v1/courses?sort=newest&limit=3&free=false');
      expect(page.statusCode, page.body).toBe(200);
      const detail = await t.request('GET', `/api/v1/courses/${id}`);
      expect(detail.statusCode, detail.body).toBe(200);
      expect(detail.json().title).toBe('Cache down');
      expect((await t.request('GET', `/api/v1/courses/${randomUUID()}`)).statusCode).toBe(404);
    } finally {
      failing.mockRestore();
    }
  });

  it('drops a course page only once the change is committed, so a read at the drop sees the new page', async () => {
    const { id } = await t.publishedCourse({ title: 'Raced course' }, t.otherInstructor);
    await settleEvents(t.app);
    const names = async (app: LecternApp['app']) =>
      (await app.inject({ method: 'GET', url: `/api/v1/courses/${id}` }))
        .json<{ instructors: { displayName: string }[] }>()
        .instructors.map((i) => i.displayName);
    expect(await names(t.app.app)).not.toEqual(['王老师']);

    // a visitor who asks right when this course's answers are dropped, on an instance that has
    // not read the page yet (so it takes the new generation from the shared cache): were the drop
    // made inside the consumer's transaction, that read would load the old rows and cache them
    // under the new generation (on PGlite it would wait for the one connection forever)
    const other: LecternApp = await buildApp(t.app.platform, [createCatalogModule(t.app.platform)], {
      keys: t.app.tokens.keys,
      worker: false,
    });
    const cache = t.app.platform.cache;
    const incr = cache.incr.bind(cache);
    const readsAtDrop: string[][] = [];
    const spy = vi.spyOn(cache, 'incr').mockImplementation(async (key, seconds, by) => {
      const value = await incr(key, seconds, by);
      if (key === `rc:gen:catalog:course:${id}`) readsAtDrop.push(await names(other.app));
      return value;
    });
    try {
      const eventId = randomUUID();
      await t.app.platform.bus.publish({
        id: eventId,
        type: 'identity.user.profile_updated',
        version: 1,
        occurredAt: new Date().toISOString(),
        aggregateId: t.otherInstructor.id,
        data: { userId: t.otherInstructor.id, displayName: '王老师', headline: null, bio: null },
      });
      await eventApplied(t.app, 'catalog.instructor-profile-updates', eventId);
      await waitFor(() => readsAtDrop.length > 0, 'the course page to be dropped');
      expect(readsAtDrop[0]).toEqual(['王老师']);
      await waitFor(async () => (await names(t.app.app)).includes('王老师'), 'the new page on this instance');
      expect(await names(other.app)).toEqual(['王老师']);
    } finally {
      spy.mockRestore();
      await other.close();
    }
  });
});

describe('favourites', () => {
  interface Detail {
    favourited: boolean | null;
    favouriteCount: number;
  }
  const detail = (id: string, as?: CatalogTest['admin']) =>
    t.request('GET', `/api/v1/courses/${id}`, { as }).then((r) => r.json<Detail>());

  it('adds, lists and removes, idempotently, with the count on the course', async () => {
    const a = ids.pythonZh ?? '';
    const b = ids.figma ?? '';
    expect(await detail(a)).toMatchObject({ favourited: null, favouriteCount: 0 });
    expect((await t.request('PUT', `/api/v1/me/favourites/${a}`, { as: t.learner })).statusCode).toBe(204);
    expect((await t.request('PUT', `/api/v1/me/favourites/${a}`, { as: t.learner })).statusCode).toBe(204);
    await t.request('PUT', `/api/v1/me/favourites/${b}`, { as: t.learner });
    await t.request('PUT', `/api/v1/me/favourites/${a}`, { as: t.otherInstructor });

    expect(await detail(a, t.learner)).toMatchObject({ favourited: true, favouriteCount: 2 });
    expect(await detail(a, t.admin)).toMatchObject({ favourited: false, favouriteCount: 2 });

    const saved = (await t.request('GET', '/api/v1/me/favourites?limit=1', { as: t.learner })).json<{
      data: { course: { id: string } }[];
      nextCursor: string | null;
    }>();
    expect(saved.data.map((f) => f.course.id)).toEqual([b]);
    const rest = (
      await t.request('GET', `/api/v1/me/favourites?limit=1&cursor=${saved.nextCursor ?? ''}`, {
        as: t.learner,
      })
    ).json<{ data: { course: { id: string } }[]; nextCursor: string | null }>();
    expect(rest).toMatchObject({ data: [{ course: { id: a } }], nextCursor: null });

    expect((await t.request('DELETE', `/api/v1/me/favourites/${a}`, { as: t.learner })).statusCode).toBe(204);
    expect((await t.request('DELETE', `/api/v1/me/favourites/${a}`, { as: t.learner })).statusCode).toBe(204);
    expect(await detail(a, t.learner)).toMatchObject({ favourited: false, favouriteCount: 1 });
  });

  it('needs a signed-in user and a visible course', async () => {
    expect((await t.request('PUT', `/api/v1/me/favourites/${ids.figma}`)).statusCode).toBe(401);
    const draft = await t.draftCourse();
    const hidden = await t.request('PUT', `/api/v1/me/favourites/${draft}`, { as: t.learner });
    expect(hidden.statusCode).toBe(404);
    expect((await t.request('GET', '/api/v1/me/favourites', { as: t.learner })).statusCode).toBe(200);
  });
});
