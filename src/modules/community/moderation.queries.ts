import { type Kysely, sql } from 'kysely';
import type { CommunityTables, ItemStatus, ModerationPart, SubjectType } from './tables.js';

type Db = Kysely<CommunityTables>;

export type ModerationAction = 'held' | 'approved' | 'hidden' | 'deleted' | 'reported';

export async function logAction(
  db: Db,
  entry: {
    type: SubjectType;
    id: string;
    /** `reply`: the instructor's reply of the review `id`; the review itself otherwise. */
    part?: ModerationPart;
    action: ModerationAction;
    actorId: string | null;
    /** Who wrote the post (or the reply): the author's export finds the entry by it. */
    authorId: string | null;
    reason: string | null;
    at: Date;
  },
): Promise<void> {
  await db
    .insertInto('community.moderation_log')
    .values({
      subject_type: entry.type,
      subject_id: entry.id,
      part: entry.part ?? 'item',
      action: entry.action,
      actor_id: entry.actorId,
      author_id: entry.authorId,
      reason: entry.reason,
      at: entry.at,
    })
    .execute();
}

/** One report per reporter and subject; false when this reporter had already reported it. */
export async function insertReport(
  db: Db,
  report: { id: string; type: SubjectType; subjectId: string; reporterId: string; reason: string; at: Date },
): Promise<boolean> {
  const row = await db
    .insertInto('community.reports')
    .values({
      id: report.id,
      subject_type: report.type,
      subject_id: report.subjectId,
      reporter_id: report.reporterId,
      reason: report.reason,
      created_at: report.at,
    })
    .onConflict((oc) => oc.columns(['subject_type', 'subject_id', 'reporter_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function resolveReports(db: Db, type: SubjectType, subjectId: string, at: Date): Promise<void> {
  await db
    .updateTable('community.reports')
    .set({ resolved_at: at })
    .where('subject_type', '=', type)
    .where('subject_id', '=', subjectId)
    .where('resolved_at', 'is', null)
    .execute();
}

export interface QueueRow {
  subject_type: SubjectType;
  id: string;
  status: ItemStatus;
  author_id: string;
  body: string;
  course_id: string;
  created_at: Date;
  open_reports: string;
  reasons: string[] | null;
  /** The instructor's reply to a review, when the word list holds it. */
  held_reply: string | null;
}

/**
 * What waits for a moderator: held items and items with open reports, oldest first, keyset on
 * (created_at, id).
 */
export async function moderationQueue(
  db: Db,
  limit: number,
  after: [string, string] | undefined,
): Promise<QueueRow[]> {
  const keyset = after
    ? sql`where (q.created_at, q.id) > (${after[0]}::timestamptz, ${after[1]}::uuid)`
    : sql``;
  const result = await sql<QueueRow>`
    with reported as (
      select subject_type, subject_id, count(*) as open_reports, array_agg(reason order by created_at) as reasons
      from community.reports where resolved_at is null group by subject_type, subject_id
    ), items as (
      select 'review'::text as subject_type, r.id, r.status, r.author_id, r.body, r.course_id, r.created_at,
        case when r.reply_status = 'held' then r.reply_body end as held_reply
      from community.reviews r
      where r.status <> 'visible' or r.reply_status = 'held'
        or exists (select 1 from reported p where p.subject_type = 'review' and p.subject_id = r.id)
      union all
      select 'comment'::text, c.id, c.status, c.author_id, c.body, c.course_id, c.created_at, null
      from community.comments c
      where c.deleted_at is null and (c.status <> 'visible'
        or exists (select 1 from reported p where p.subject_type = 'comment' and p.subject_id = c.id))
    )
    select q.*, coalesce(p.open_reports, 0) as open_reports, p.reasons
    from items q left join reported p on p.subject_type = q.subject_type and p.subject_id = q.id
    ${keyset}
    order by q.created_at, q.id
    limit ${limit + 1}`.execute(db);
  return result.rows;
}

export async function auditTrail(db: Db, subjectId: string) {
  return db
    .selectFrom('community.moderation_log')
    .selectAll()
    .where('subject_id', '=', subjectId)
    .orderBy('id')
    .execute();
}
