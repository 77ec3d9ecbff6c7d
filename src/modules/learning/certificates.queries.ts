import type { Insertable, Kysely } from 'kysely';
import type { CertificateTable, LearningTables } from './tables.js';

type Db = Kysely<LearningTables>;

/** The new row, or undefined when the learner already has this course's certificate. */
export function insertCertificate(db: Db, row: Insertable<CertificateTable>) {
  return db
    .insertInto('learning.certificates')
    .values(row)
    .onConflict((oc) => oc.columns(['user_id', 'course_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function certificateOf(db: Db, userId: string, courseId: string) {
  return db
    .selectFrom('learning.certificates')
    .selectAll()
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .executeTakeFirst();
}

export function certificateById(db: Db, id: string) {
  return db.selectFrom('learning.certificates').selectAll().where('id', '=', id).executeTakeFirst();
}

export function certificateByVerificationId(db: Db, verificationId: string) {
  return db
    .selectFrom('learning.certificates')
    .selectAll()
    .where('verification_id', '=', verificationId)
    .executeTakeFirst();
}

export function certificatesOfUser(db: Db, userId: string) {
  return db
    .selectFrom('learning.certificates')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('issued_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export async function courseCompletedAt(db: Db, userId: string, courseId: string): Promise<Date | undefined> {
  const row = await db
    .selectFrom('learning.course_progress')
    .select('completed_at')
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .executeTakeFirst();
  return row?.completed_at ? new Date(row.completed_at) : undefined;
}
