import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { inTransaction } from '../../platform/db/database.js';
import type { EventBus, EventEnvelope } from '../../platform/messaging/types.js';
import type { BenchScenario } from '../../platform/module.js';
import { CommentRepliedEvent } from '../community/index.js';
import type { DeliveryService } from './delivery.service.js';
import { countNotifications, grantEntitlements } from './fanout.queries.js';
import type { FanoutService } from './fanout.service.js';
import type { LiveHub } from './live.js';
import type { NotifyTables } from './tables.js';
import type { Kysely } from 'kysely';

type Db = Kysely<NotifyTables>;

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** A user of its own, registered and signed in through identity's routes: its id and bearer header. */
async function user(baseUrl: string): Promise<{ id: string; authorization: string }> {
  const email = `bench-notify-${randomUUID()}@bench.lectern.invalid`;
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
  const token = login.accessToken;
  if (!token) throw new Error('the bench user could not sign in');
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    sub: string;
  };
  return { id: claims.sub, authorization: `Bearer ${token}` };
}

/** Epoch milliseconds with sub-millisecond precision (the bench process compares with its own). */
const epochMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Events driven through the bus per run of the events scenario. */
const EVENTS = 20_000;
/** SSE: users × streams per user = connected clients; rounds = items pushed to each. */
const SSE_USERS = 100;
const SSE_STREAMS_PER_USER = 10;
const SSE_ROUNDS = 10;
/** Learners of the fan-out course. */
const FANOUT_LEARNERS = 10_000;

/**
 * Notify's goals (issue 12): notifications created from events, the live push to 1,000 SSE
 * clients, and the inbox API's tail while a 10,000-learner fan-out runs.
 */
export function notifyBench(deps: {
  db: Db;
  bus: EventBus;
  delivery: DeliveryService;
  fanout: FanoutService;
  live: LiveHub;
}): BenchScenario[] {
  const { db, bus, delivery, fanout, live } = deps;
  const run = randomUUID().slice(0, 8);
  let sseUsers: string[] = [];
  let fanoutCourse = '';

  return [
    {
      // each reply event → one comment_replied inbox item (in-app only by default, like most
      // chatty kinds), through the bus and notify's subscriber with its inbox (exactly-once) row
      name: 'events → inbox notifications (comment replies through the bus)',
      async prepare() {
        const before = await countNotifications(db, 'comment_replied');
        const now = new Date().toISOString();
        // made as they are published, a chunk at a time, as the relay reads the outbox: the
        // measured process holds what the bus holds, not the whole burst made up front
        const reply = (): EventEnvelope => {
          const commentId = randomUUID();
          return {
            id: randomUUID(),
            type: CommentRepliedEvent.type,
            version: CommentRepliedEvent.version,
            occurredAt: now,
            aggregateId: commentId,
            data: {
              commentId,
              parentId: randomUUID(),
              parentAuthorId: randomUUID(),
              lessonId: randomUUID(),
              courseId: randomUUID(),
              authorId: randomUUID(),
              byInstructor: false,
              excerpt: 'A reply from the bench',
              repliedAt: now,
            },
          };
        };
        const started = performance.now();
        // as the relay does: published in order, a few in flight at once
        for (let i = 0; i < EVENTS; i += 200) {
          const chunk = Array.from({ length: Math.min(200, EVENTS - i) }, reply);
          await Promise.all(chunk.map((e) => bus.publish(e)));
        }
        const deadline = started + 100_000;
        let created = 0;
        while (performance.now() < deadline) {
          created = (await countNotifications(db, 'comment_replied')) - before;
          if (created >= EVENTS) break;
          await sleep(50);
        }
        const seconds = (performance.now() - started) / 1000;
        return {
          path: `${EVENTS} community.comment.replied events → notify.notifications rows`,
          measured: {
            count: created,
            seconds,
            unit: 'notifications/s',
            ...(created < EVENTS ? { note: `BROKEN: ${EVENTS - created} not created within 100 s` } : {}),
          },
        };
      },
    },
    {
      name: 'SSE push of a new item to 1,000 connected clients',
      async prepare({ baseUrl }) {
        const users = [];
        for (let i = 0; i < SSE_USERS; i++) users.push(await user(baseUrl));
        sseUsers = users.map((u) => u.id);
        return {
          path: '/api/v1/me/notifications/stream',
          sse: {
            authorizations: users.map((u) => u.authorization),
            streamsPerUser: SSE_STREAMS_PER_USER,
            rounds: SSE_ROUNDS,
          },
        };
      },
      // one announcement per user, created as a fan-out batch is (one insert, one transaction),
      // then pushed through the live hub as every new item is
      async act({ round }) {
        const startedAt = epochMs();
        const items = await inTransaction(db, (trx) =>
          delivery.create(
            trx,
            sseUsers.map((recipientId) => ({
              recipientId,
              kind: 'announcement' as const,
              payload: { title: 'Bench', body: `round ${round}`, round },
              dedupeKey: `bench-sse:${run}:${round}`,
            })),
          ),
        );
        const publishedAt = epochMs();
        await live.publish(items);
        return { startedAt, publishedAt, items: items.length };
      },
    },
    {
      name: 'inbox API during a 10,000-learner course-update fan-out',
      async prepare({ baseUrl }) {
        const reader = await user(baseUrl);
        fanoutCourse = randomUUID();
        // the fan-out's segment: notify's copy of the course's learners (learning's grants), the reader among them
        const learners = Array.from({ length: FANOUT_LEARNERS - 1 }, () => randomUUID());
        await grantEntitlements(
          db,
          [...learners, reader.id].map((userId) => ({ userId, courseId: fanoutCourse })),
        );
        // a reader with a page of history to list
        await inTransaction(db, (trx) =>
          delivery.create(
            trx,
            Array.from({ length: 30 }, (_, i) => ({
              recipientId: reader.id,
              kind: 'announcement' as const,
              payload: { title: 'Bench', body: `item ${i}` },
              dedupeKey: `bench-inbox:${run}:${i}`,
            })),
          ),
        );
        const path = '/api/v1/me/notifications?limit=20';
        await json(`${baseUrl}${path}`, { headers: { authorization: reader.authorization } });
        return {
          path,
          headers: { authorization: reader.authorization },
          during: { label: `a ${FANOUT_LEARNERS.toLocaleString('en')}-learner course-update fan-out` },
        };
      },
      // started as the subscriber of catalog.course.updated starts it; its batches are jobs
      async act() {
        const started = performance.now();
        const id = await inTransaction(db, (trx) =>
          fanout.start(trx, {
            sourceId: randomUUID(),
            kind: 'course_updated',
            payload: { courseId: fanoutCourse, changes: ['bench update'] },
            segment: { type: 'course', courseId: fanoutCourse },
          }),
        );
        if (!id) throw new Error('the fan-out did not start');
        for (;;) {
          const view = await fanout.get(id);
          if (view?.status === 'done') {
            return { seconds: (performance.now() - started) / 1000, reached: view.reached };
          }
          if (performance.now() - started > 240_000)
            throw new Error('the fan-out did not finish within 240 s');
          await sleep(100);
        }
      },
    },
  ];
}
