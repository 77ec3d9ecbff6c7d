import type { ColumnType, Generated } from 'kysely';

type Stamp = ColumnType<Date, Date | string, Date | string>;

export type GrantSource = 'order' | 'free' | 'admin';

/** One reason a user may open a course; access = any row for (user, course). */
export interface GrantTable {
  user_id: string;
  course_id: string;
  source: GrantSource;
  /** The order id for `order`, '' for `free` and `admin` (one of each per user and course). */
  source_id: string;
  reason: ColumnType<string | null, string | null | undefined, string | null>;
  granted_at: Stamp;
}

/** An order line refunded: a paid event arriving later must not grant it. */
export interface TombstoneTable {
  order_id: string;
  course_id: string;
  revoked_at: Stamp;
}

export interface LessonProgressTable {
  user_id: string;
  lesson_id: string;
  course_id: string;
  /** Furthest position reached (seconds or page); never goes back. */
  max_position: Generated<number>;
  /** Where to resume: the position of the newest report. */
  resume_position: Generated<number>;
  /** Newest client time accepted, when the client sends one. */
  client_reported_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Server time of the last accepted report (throttle and learning-time deltas). */
  last_reported_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  completed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface CourseProgressTable {
  user_id: string;
  course_id: string;
  completed_lessons: Generated<number>;
  last_lesson_id: ColumnType<string | null, string | null | undefined, string | null>;
  resume_position: Generated<number>;
  last_activity_at: Stamp;
  completed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface DailyTimeTable {
  user_id: string;
  /** UTC day, `YYYY-MM-DD`. */
  day: ColumnType<string, string, string>;
  seconds: number;
}

export interface CertificateTable {
  id: string;
  user_id: string;
  course_id: string;
  verification_id: string;
  learner_name: string;
  course_title: string;
  issued_at: Stamp;
}

export type LearningTables = {
  'learning.grants': GrantTable;
  'learning.tombstones': TombstoneTable;
  'learning.lesson_progress': LessonProgressTable;
  'learning.course_progress': CourseProgressTable;
  'learning.daily_time': DailyTimeTable;
  'learning.certificates': CertificateTable;
};
