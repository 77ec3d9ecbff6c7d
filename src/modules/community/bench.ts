import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { BenchScenario } from '../../platform/module.js';
import { seedBulkReviews } from './seed/bulk.js';
import type { Prior } from './reviews.service.js';
import type { CommunityTables } from './tables.js';

const REVIEWS = 10_000;
const PAGE = 20;

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** A reader of its own, registered and signed in through identity's routes. */
async function signedIn(baseUrl: string): Promise<string> {
  const email = `bench-${randomUUID()}@bench.lectern.invalid`;
  const password = `bench-${randomUUID()}`;
  const headers = { 'content-type': 'application/json' };
  await json(`${baseUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ email, password, displayName: 'Bench Reader' }),
  });
  const login = await json<{ accessToken?: string }>(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ email, password }),
  });
  if (!login.accessToken) throw new Error('the bench reader could not sign in');
  return `Bearer ${login.accessToken}`;
}

/**
 * Reviews of one course with 10,000 reviews in "best" (Wilson) order. Warm: the anonymous first
 * page, served by the response cache. Uncached: a signed-in reader (whose own votes are marked,
 * so the page is never shared) paging through every page in turn: each request is the keyset
 * query on the partial (course, wilson, id) index plus the reader's votes of the page.
 */
export function communityBench(deps: { db: Kysely<CommunityTables>; prior: Prior }): BenchScenario[] {
  let courseId: string | undefined;
  const course = async () => {
    if (!courseId) {
      const id = randomUUID();
      await seedBulkReviews(deps.db, id, REVIEWS, deps.prior);
      courseId = id;
    }
    return courseId;
  };
  return [
    {
      name: 'community reviews, 10,000 reviews, best first, warm',
      async prepare({ baseUrl }) {
        const path = `/api/v1/courses/${await course()}/reviews?sort=best&limit=${PAGE}`;
        await json(`${baseUrl}${path}`);
        return { path };
      },
    },
    {
      name: 'community reviews, 10,000 reviews, best first, uncached (signed-in reader, every page)',
      async prepare({ baseUrl }) {
        const id = await course();
        const authorization = await signedIn(baseUrl);
        const base = `/api/v1/courses/${id}/reviews?sort=best&limit=${PAGE}`;
        const paths = [base];
        let cursor: string | null = null;
        do {
          const page: { nextCursor: string | null } = await json(
            `${baseUrl}${base}${cursor ? `&cursor=${cursor}` : ''}`,
            { headers: { authorization } },
          );
          cursor = page.nextCursor;
          if (cursor) paths.push(`${base}&cursor=${cursor}`);
        } while (cursor);
        return { path: `${base}&cursor=<each of ${paths.length} pages>`, paths, headers: { authorization } };
      },
    },
  ];
}
