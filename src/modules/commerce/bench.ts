import { randomUUID } from 'node:crypto';
import type { BenchScenario } from '../../platform/module.js';

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** A learner of its own, registered and signed in through identity's routes (unverified may sign in). */
async function learner(baseUrl: string): Promise<string> {
  const email = `bench-buyer-${randomUUID()}@bench.lectern.invalid`;
  const password = `bench-${randomUUID()}`;
  const headers = { 'content-type': 'application/json' };
  await json(`${baseUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ email, password, displayName: 'Bench Buyer' }),
  });
  const login = await json<{ accessToken?: string }>(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ email, password }),
  });
  if (!login.accessToken) throw new Error('the bench buyer could not sign in');
  return `Bearer ${login.accessToken}`;
}

/** Learners × paid courses: 3,000 buyers cover about 250 checkouts/s over a 2 s warm-up and 10 s run. */
const LEARNERS = 60;
const COURSES = 50;

/**
 * Full checkouts through HTTP, as a learner's client and the sandbox provider make them: create
 * the order, start a sandbox payment, pay it (the sandbox posts its signed notification to the
 * notify route, which settles the order with its paid event, ledger entry and outbox row before
 * the pay call answers). bench/run.ts drives the three requests per connection in turn. Every
 * checkout is a new learner × course pair, taken round-robin over the learners, so checkouts
 * never wait on one learner's or one course's rows and none repeats a purchase.
 */
export function commerceBench(): BenchScenario[] {
  return [
    {
      name: 'full checkouts (order → sandbox payment → pay → notification → paid)',
      async prepare({ baseUrl }) {
        const list = await json<{ data: { id: string; isFree: boolean }[] }>(
          `${baseUrl}/api/v1/courses?free=false&limit=${COURSES}`,
        );
        const courses = list.data.filter((c) => !c.isFree).map((c) => c.id);
        if (courses.length === 0) throw new Error('no published paid course: seed the catalog first');
        const learners: string[] = [];
        for (let i = 0; i < LEARNERS; i++) learners.push(await learner(baseUrl));
        const buyers = courses.flatMap((courseId) =>
          learners.map((authorization) => ({ authorization, courseId })),
        );
        return {
          method: 'POST',
          path: '/api/v1/orders → /orders/:id/payments → /sandbox/pay/:id',
          checkout: { buyers },
        };
      },
    },
  ];
}
