import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { toPage } from '../../platform/http/pagination.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { CatalogLesson } from '../catalog/index.js';
import type { AccessService, Learner } from './access.service.js';
import type { CourseFacts } from './catalog-facts.js';
import type { EntitlementsService } from './entitlements.service.js';
import type { IssueCertificateData, IssueCertificateJob } from './jobs.js';
import { CourseCompletedEvent, LessonCompletedEvent } from './learning.events.js';
import { LearningErrors, purchaseRequired } from './learning.errors.js';
import {
  dailyTime,
  lessonProgressOfCourse,
  lockProgress,
  myCourses,
  readProgress,
  type SeenProgress,
  writeProgress,
  writeProgressIfUnchanged,
} from './progress.queries.js';
import type { LearningTables } from './tables.js';

type Db = Kysely<LearningTables>;

export interface ProgressReport {
  position: number;
  completed?: boolean | undefined;
  reportedAt?: string | undefined;
}

/** Lessons whose position is a time in seconds (the others count pages). */
const timeBased = (lesson: CatalogLesson) => lesson.kind === 'video' || lesson.kind === 'article';

/** How far ahead of the server a client's clock may be before its report is refused. */
const CLOCK_SKEW_MS = 60_000;

const percent = (done: number, total: number) =>
  total > 0 ? Math.floor((100 * Math.min(done, total)) / total) : 0;
const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Progress reports: monotonic (the furthest position only grows; a report older than the newest
 * accepted one changes nothing), throttled per lesson (closer than `intervalSeconds` to the
 * previous accepted report: answered 200 with `accepted: false`), completion once per lesson and
 * once per course, learning time per UTC day capped per report.
 */
export function createProgressService(deps: {
  db: Db;
  clock: Clock;
  jobs: JobQueue;
  certificateJob: IssueCertificateJob;
  access: AccessService;
  entitlements: EntitlementsService;
  facts: CourseFacts;
  intervalSeconds: number;
  timeCapSeconds: number;
}) {
  const { db, clock, jobs, certificateJob, access, entitlements, facts, intervalSeconds, timeCapSeconds } =
    deps;

  async function report(learner: Learner, lessonId: string, input: ProgressReport) {
    // every question to the catalog and the entitlement check come before the transaction
    const { lesson, course } = await access.lessonInCourse(lessonId);
    if (!(await entitlements.isEntitled(learner.userId, course.id))) {
      throw purchaseRequired({ id: course.id, price: course.price, onSale: course.onSale });
    }
    const lessons = await facts.lessonsOf(course.id);
    const total = lessons.length;
    const reportedAt = input.reportedAt === undefined ? undefined : new Date(input.reportedAt);
    if (reportedAt && reportedAt.getTime() > clock().getTime() + CLOCK_SKEW_MS) {
      throw AppError.validation(LearningErrors.reportedInFuture, 'reportedAt is later than now.', [
        { field: '/body/reportedAt', message: 'must not be in the future' },
      ]);
    }
    const duration = timeBased(lesson) && lesson.durationSeconds ? lesson.durationSeconds : undefined;
    const position = duration === undefined ? input.position : Math.min(input.position, duration);
    const keys = { userId: learner.userId, courseId: course.id, lessonId };

    /** What this report does to the rows as they were (`seen`), at `now`: the rules, no I/O. */
    function decide(seen: SeenProgress, now: Date) {
      const last = seen.last_reported_at ? new Date(seen.last_reported_at) : undefined;
      const completesNow = !seen.completed_at && input.completed === true;
      const throttled =
        last !== undefined && now.getTime() - last.getTime() < intervalSeconds * 1000 && !completesNow;
      const older =
        reportedAt !== undefined &&
        seen.client_reported_at !== null &&
        reportedAt.getTime() <= new Date(seen.client_reported_at).getTime();
      const state = (s: {
        max: number;
        resume: number;
        completedAt: Date | null;
        completedLessons: number;
      }) => ({
        lessonId,
        courseId: course.id,
        accepted: !(throttled || older),
        position: s.max,
        resumePosition: s.resume,
        completed: s.completedAt !== null,
        completedAt: s.completedAt?.toISOString() ?? null,
        courseProgressPercent: percent(s.completedLessons, total),
      });
      if (throttled || older) {
        const view = state({
          max: seen.max_position,
          resume: seen.resume_position,
          completedAt: seen.completed_at ? new Date(seen.completed_at) : null,
          completedLessons: seen.completed_lessons,
        });
        return { view, change: undefined };
      }

      const max = Math.max(seen.max_position, position);
      const reachesEnd = duration !== undefined && max >= duration;
      const lessonDone = !seen.completed_at && (input.completed === true || reachesEnd);
      const completedAt = seen.completed_at ? new Date(seen.completed_at) : lessonDone ? now : null;
      // time counts only between two accepted reports that moved, and never more than the cap
      const elapsed = last ? Math.floor((now.getTime() - last.getTime()) / 1000) : 0;
      const credit = position !== seen.resume_position ? Math.max(0, Math.min(elapsed, timeCapSeconds)) : 0;
      const completedLessons = seen.completed_lessons + (lessonDone ? 1 : 0);
      const courseDone = !seen.course_completed_at && total > 0 && completedLessons >= total;
      const change = {
        lessonDone,
        courseDone,
        lesson: {
          max_position: max,
          resume_position: position,
          client_reported_at:
            reportedAt ?? (seen.client_reported_at ? new Date(seen.client_reported_at) : null),
          last_reported_at: now,
          completed_at: completedAt,
        },
        course: { last_lesson_id: lessonId, resume_position: position, last_activity_at: now },
        completion: {
          completed_lessons: completedLessons,
          completed_at: seen.course_completed_at
            ? new Date(seen.course_completed_at)
            : courseDone
              ? now
              : null,
        },
        credit: { day: utcDay(now), seconds: credit },
      };
      return { view: state({ max, resume: position, completedAt, completedLessons }), change };
    }

    // Most reports are heartbeats of a lesson already started that complete nothing: decided on
    // the rows as read, then written in one statement only if the lesson row is still as read (a
    // compare-and-set, no transaction held across round trips). An ignored report writes nothing.
    const now = clock();
    const seen = await readProgress(db, keys);
    if (seen) {
      const { view, change } = decide(seen, now);
      if (!change) return view;
      if (!change.lessonDone && !change.courseDone) {
        if (await writeProgressIfUnchanged(db, keys, seen, change.lesson, change.course, change.credit)) {
          return view;
        }
      }
    }

    // the first report of a lesson, a completion, or a report that raced another one: under the locks
    return inTransaction(db, async (trx) => {
      const at = clock();
      const { view, change } = decide(await lockProgress(trx, keys, at), at);
      if (!change) return view;
      await writeProgress(
        trx,
        keys,
        change.lesson,
        { ...change.course, ...change.completion },
        change.credit,
      );
      const completedAt = at.toISOString();
      if (change.lessonDone) {
        await enqueue(trx, 'learning', [
          LessonCompletedEvent.create(lessonId, {
            userId: learner.userId,
            courseId: course.id,
            lessonId,
            completedAt,
          }),
        ]);
      }
      if (change.courseDone) {
        await enqueue(trx, 'learning', [
          CourseCompletedEvent.create(course.id, {
            userId: learner.userId,
            courseId: course.id,
            completedAt,
          }),
        ]);
        await jobs.send<typeof IssueCertificateData, LearningTables>(
          certificateJob,
          { userId: learner.userId, courseId: course.id },
          { transaction: trx, singletonKey: `${learner.userId}:${course.id}` },
        );
      }
      return view;
    });
  }

  return {
    report,

    async myLearning(userId: string, page: { limit?: number | undefined; cursor?: string | undefined }) {
      const limit = page.limit ?? 20;
      const rows = await myCourses(db, userId, { limit, cursor: page.cursor });
      const totals = new Map<string, number>();
      await Promise.all(
        rows
          .slice(0, limit)
          .map(async (r) => totals.set(r.course_id, (await facts.lessonsOf(r.course_id)).length)),
      );
      return toPage(
        rows,
        limit,
        (r) => [new Date(r.last_activity_at).toISOString(), r.course_id],
        (r) => ({
          courseId: r.course_id,
          progressPercent: percent(r.completed_lessons, totals.get(r.course_id) ?? 0),
          completedLessons: r.completed_lessons,
          totalLessons: totals.get(r.course_id) ?? 0,
          lastLessonId: r.last_lesson_id,
          resumePosition: r.resume_position,
          lastActivityAt: new Date(r.last_activity_at).toISOString(),
          completedAt: r.completed_at ? new Date(r.completed_at).toISOString() : null,
        }),
      );
    },

    /** Seconds learnt per UTC day over the last `days` days, days without time left out. */
    async learningTime(userId: string, days: number) {
      const from = new Date(clock().getTime() - (days - 1) * 86_400_000);
      const rows = await dailyTime(db, userId, utcDay(from));
      return { data: rows.map((r) => ({ day: r.day, seconds: r.seconds })) };
    },

    /**
     * The share of the course the learner has consumed, 0..1: completed or watched seconds over
     * the course's total duration, or completed lessons over lessons when a duration is missing.
     */
    async consumedShare(userId: string, courseId: string): Promise<number> {
      const lessons = await facts.lessonsOf(courseId);
      if (lessons.length === 0) return 0;
      const rows = new Map((await lessonProgressOfCourse(db, userId, courseId)).map((r) => [r.lesson_id, r]));
      const byDuration = lessons.every((l) => (l.durationSeconds ?? 0) > 0);
      let done = 0;
      let whole = 0;
      for (const l of lessons) {
        const row = rows.get(l.id);
        if (byDuration) {
          const d = l.durationSeconds ?? 0;
          whole += d;
          if (row?.completed_at) done += d;
          else if (row && timeBased(l)) done += Math.min(row.max_position, d);
        } else {
          whole += 1;
          if (row?.completed_at) done += 1;
        }
      }
      return Math.min(1, Math.round((done / whole) * 10_000) / 10_000);
    },
  };
}

export type ProgressService = ReturnType<typeof createProgressService>;
