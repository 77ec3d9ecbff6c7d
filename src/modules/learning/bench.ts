import { randomUUID } from 'node:crypto';
import type { BenchScenario } from '../../platform/module.js';
import type { EntitlementsService } from './entitlements.service.js';

interface Detail {
  id: string;
  chapters: { lessons: { id: string; freePreview: boolean }[] }[];
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * A learner of its own (registered and signed in through identity's routes, unverified accounts
 * may sign in), entitled by admin grants to the most expensive paid demo courses; returns the token
 * and their paid lessons.
 */
async function entitledLearner(baseUrl: string, entitlements: EntitlementsService, courses = 1) {
  const email = `bench-${randomUUID()}@bench.lectern.invalid`;
  const password = `bench-${randomUUID()}`;
  const headers = { 'content-type': 'application/json' };
  await json(`${baseUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ email, password, displayName: 'Bench Learner' }),
  });
  const login = await json<{ accessToken?: string }>(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ email, password }),
  });
  const token = login.accessToken;
  if (!token) throw new Error('the bench learner could not sign in');
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    sub: string;
  };
  const list = await json<{ data: { id: string }[] }>(
    `${baseUrl}/api/v1/courses?sort=price_desc&free=false&limit=${courses}`,
  );
  if (list.data.length === 0) throw new Error('no published paid course: seed the catalog first');
  const lessonIds: string[] = [];
  for (const { id: courseId } of list.data) {
    const detail = await json<Detail>(`${baseUrl}/api/v1/courses/${courseId}`);
    lessonIds.push(
      ...detail.chapters.flatMap((c) => c.lessons.filter((l) => !l.freePreview).map((l) => l.id)),
    );
    await entitlements.adminGrant({ userId: payload.sub, courseId, reason: 'bench' });
  }
  if (lessonIds.length === 0) throw new Error('the courses have no paid lesson');
  return { authorization: `Bearer ${token}`, lessonIds };
}

/**
 * The content check for an entitled learner with warm caches (token guard, the catalog facts,
 * the entitlement answer, the URL's HMAC), and progress writes spread over the course's paid
 * lessons of up to 50 courses (each one a read and one compare-and-set statement writing the
 * lesson row, the course row and the day's learning time). One learner's reports in one course run one after another (the course
 * row lock), so a pool of one course would measure lock waits, not writes. Progress
 * is measured with LEARNING_PROGRESS_INTERVAL_SECONDS=0 (bench/run.ts sets it), so every report is
 * a write rather than an ignored repeat.
 */
export function learningBench(deps: { entitlements: EntitlementsService }): BenchScenario[] {
  return [
    {
      name: 'content access check, entitled learner, warm',
      async prepare({ baseUrl }) {
        const { authorization, lessonIds } = await entitledLearner(baseUrl, deps.entitlements);
        const path = `/api/v1/lessons/${lessonIds[0] ?? ''}/access`;
        await json(`${baseUrl}${path}`, { headers: { authorization } });
        return { path, headers: { authorization } };
      },
    },
    {
      name: 'progress writes (PUT /lessons/:id/progress)',
      async prepare({ baseUrl }) {
        const { authorization, lessonIds } = await entitledLearner(baseUrl, deps.entitlements, 50);
        const paths = lessonIds.map((id) => `/api/v1/lessons/${id}/progress`);
        const headers = { authorization, 'content-type': 'application/json' };
        const body = JSON.stringify({ position: 30 });
        await json(`${baseUrl}${paths[0] ?? ''}`, { method: 'PUT', headers, body });
        return { method: 'PUT', path: '/api/v1/lessons/<paid lesson>/progress', paths, headers, body };
      },
    },
  ];
}
