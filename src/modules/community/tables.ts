import type { ColumnType, Generated } from 'kysely';

type Stamp = ColumnType<Date, Date | string, Date | string>;
type NullableStamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;

/** `held`: caught by the word list, waiting for a moderator; `hidden`: taken down by one. */
export type ItemStatus = 'visible' | 'held' | 'hidden';
export type SubjectType = 'review' | 'comment';
/** What of a subject a moderation entry is about: the post itself, or a review's instructor reply. */
export type ModerationPart = 'item' | 'reply';

export interface ReviewTable {
  id: string;
  course_id: string;
  author_id: string;
  rating: number;
  body: string;
  /** The author was entitled to the course when writing, and no refund took it back since. */
  verified: boolean;
  status: ItemStatus;
  up_votes: Generated<number>;
  down_votes: Generated<number>;
  /** Wilson lower bound of up / (up + down), kept current by every vote (see CONTEXT.md). */
  wilson: Generated<number>;
  reply_body: Nullable<string>;
  /** The reply's own moderation status (the word list holds it like any post); null without a reply. */
  reply_status: Nullable<ItemStatus>;
  reply_author_id: Nullable<string>;
  replied_at: NullableStamp;
  created_at: Stamp;
  updated_at: Stamp;
  /** When readers could first see it (written visible, or let out by a moderator); null while never. */
  first_visible_at: NullableStamp;
  /** The row's part of its wire JSON on a list page, written by a trigger (migration 0003); never set it. */
  listed: Generated<string>;
}

export interface VoteTable {
  user_id: string;
  helpful: boolean;
  voted_at: Stamp;
}

export interface ReviewVoteTable extends VoteTable {
  review_id: string;
}

export interface CommentVoteTable extends VoteTable {
  comment_id: string;
}

export interface CourseRatingTable {
  course_id: string;
  count: number;
  sum: number;
  r1: number;
  r2: number;
  r3: number;
  r4: number;
  r5: number;
  bayesian: number;
  updated_at: Stamp;
}

export interface CommentTable {
  id: string;
  lesson_id: string;
  course_id: string;
  /** The comment this one replies to; replies have no replies of their own. */
  parent_id: Nullable<string>;
  author_id: string;
  body: string;
  /** Written by one of the course's instructors: highlighted as an instructor answer. */
  by_instructor: boolean;
  status: ItemStatus;
  up_votes: Generated<number>;
  down_votes: Generated<number>;
  wilson: Generated<number>;
  created_at: Stamp;
  updated_at: Stamp;
  /** Set when its author (or a moderator) deleted it while it had replies: a tombstone. */
  deleted_at: NullableStamp;
  /**
   * When readers could first see it (written visible, or let out by a moderator); null while it
   * never was, so its mentions, question and reply were never announced (migration 0006).
   */
  first_visible_at: NullableStamp;
}

export interface MentionTable {
  comment_id: string;
  user_id: string;
}

export interface ReportTable {
  id: string;
  subject_type: SubjectType;
  subject_id: string;
  reporter_id: string;
  reason: string;
  created_at: Stamp;
  resolved_at: NullableStamp;
}

export interface ModerationLogTable {
  id: Generated<string>;
  subject_type: SubjectType;
  subject_id: string;
  action: string;
  /** null: the platform itself (the word list). */
  actor_id: Nullable<string>;
  /**
   * Who wrote what the entry is about (the reply's author for a `reply` entry); null only on
   * entries older than migration 0005 whose post was already gone.
   */
  author_id: Nullable<string>;
  /** `reply`: about the instructor's reply of the review `subject_id`, not the review. */
  part: ColumnType<ModerationPart, ModerationPart | undefined, ModerationPart>;
  reason: Nullable<string>;
  at: Stamp;
}

/** A read copy of identity's display names, from its events: mentions resolve against it. */
export interface MemberTable {
  user_id: string;
  display_name: string;
  /** The name as a mention matches it (NFKC, lower case, no spaces). */
  name_key: string;
}

export type CommunityTables = {
  'community.reviews': ReviewTable;
  'community.review_votes': ReviewVoteTable;
  'community.course_ratings': CourseRatingTable;
  'community.comments': CommentTable;
  'community.comment_votes': CommentVoteTable;
  'community.mentions': MentionTable;
  'community.reports': ReportTable;
  'community.moderation_log': ModerationLogTable;
  'community.members': MemberTable;
};
