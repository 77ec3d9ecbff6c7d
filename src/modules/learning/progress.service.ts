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
  writeProgress,
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

    return inTransaction(db, async (trx) => {
      const now = clock();
      // four round trips in all: begin, the locks, the write, commit (plus the events of a completion)
      const locked = await lockProgress(trx, learner.userId, course.id, lessonId, now);
      const last = locked.last_reported_at ? new Date(locked.last_reported_at) : undefined;
      const completesNow = !locked.completed_at && input.completed === true;
      const throttled =
        last !== undefined && now.getTime() - last.getTime() < intervalSeconds * 1000 && !completesNow;
      const older =
        reportedAt !== undefined &&
        locked.client_reported_at !== null &&
        reportedAt.getTime() <= new Date(locked.client_reported_at).getTime();
      const view = (state: {
        max: number;
        resume: number;
        completedAt: Date | null;
        completedLessons: number;
        accepted: boolean;
      }) => ({
        lessonId,
        courseId: course.id,
        accepted: state.accepted,
        position: state.max,
        resumePosition: state.resume,
        completed: state.completedAt !== null,
        completedAt: state.completedAt?.toISOString() ?? null,
        courseProgressPercent: percent(state.completedLessons, total),
      });
      if (throttled || older) {
        return view({
          max: locked.max_position,
          resume: locked.resume_position,
          completedAt: locked.completed_at ? new Date(locked.completed_at) : null,
          completedLessons: locked.completed_lessons,
          accepted: false,
        });
      }

      const max = Math.max(locked.max_position, position);
      const reachesEnd = duration !== undefined && max >= duration;
      const lessonDone = !locked.completed_at && (input.completed === true || reachesEnd);
      const completedAt = locked.completed_at ? new Date(locked.completed_at) : lessonDone ? now : null;
      // time counts only between two accepted reports that moved, and never more than the cap
      const elapsed = last ? Math.floor((now.getTime() - last.getTime()) / 1000) : 0;
      const credit = position !== locked.resume_position ? Math.max(0, Math.min(elapsed, timeCapSeconds)) : 0;
      const completedLessons = locked.completed_lessons + (lessonDone ? 1 : 0);
      const courseDone = !locked.course_completed_at && total > 0 && completedLessons >= total;
      await writeProgress(
        trx,
        { userId: learner.userId, courseId: course.id, lessonId },
        {
          max_position: max,
          resume_position: position,
          client_reported_at:
            reportedAt ?? (locked.client_reported_at ? new Date(locked.client_reported_at) : null),
          last_reported_at: now,
          completed_at: completedAt,
        },
        {
          completed_lessons: completedLessons,
          last_lesson_id: lessonId,
          resume_position: position,
          last_activity_at: now,
          completed_at: locked.course_completed_at
            ? new Date(locked.course_completed_at)
            : courseDone
              ? now
              : null,
        },
        { day: utcDay(now), seconds: credit },
      );
      const at = now.toISOString();
      if (lessonDone) {
        await enqueue(trx, 'learning', [
          LessonCompletedEvent.create(lessonId, {
            userId: learner.userId,
            courseId: course.id,
            lessonId,
            completedAt: at,
          }),
        ]);
      }
      if (courseDone) {
        await enqueue(trx, 'learning', [
          CourseCompletedEvent.create(course.id, {
            userId: learner.userId,
            courseId: course.id,
            completedAt: at,
          }),
        ]);
        await jobs.send<typeof IssueCertificateData, LearningTables>(
          certificateJob,
          { userId: learner.userId, courseId: course.id },
          { transaction: trx, singletonKey: `${learner.userId}:${course.id}` },
        );
      }
      return view({ max, resume: position, completedAt, completedLessons, accepted: true });
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
