import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { IdentityDirectory } from '../identity/index.js';
import type { CourseFacts } from './catalog-facts.js';
import { renderCertificatePdf } from './certificate-pdf.js';
import {
  certificateById,
  certificateByVerificationId,
  certificateOf,
  certificatesOfUser,
  courseCompletedAt,
  insertCertificate,
} from './certificates.queries.js';
import { CertificateIssuedEvent } from './learning.events.js';
import { NotFound } from './learning.errors.js';
import type { CertificateTable, LearningTables } from './tables.js';
import type { Selectable } from 'kysely';
import { isUuid } from '../../platform/ids.js';

type Db = Kysely<LearningTables>;

/** Verification ids are public and unguessable: 128 random bits. */
const VERIFICATION_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * Certificates of completed courses. The learner's name and the course title are read (from
 * identity and the catalog) before the transaction and copied into the certificate, which is
 * what it says for good; the PDF is rendered from that row on each download.
 */
export function createCertificatesService(deps: {
  db: Db;
  clock: Clock;
  facts: CourseFacts;
  identity: IdentityDirectory | undefined;
  publicUrl: string | undefined;
}) {
  const { db, clock, facts, identity, publicUrl } = deps;
  const verifyPath = (verificationId: string) => `/api/v1/certificates/verify/${verificationId}`;
  const view = (row: Selectable<CertificateTable>) => ({
    id: row.id,
    courseId: row.course_id,
    courseTitle: row.course_title,
    learnerName: row.learner_name,
    verificationId: row.verification_id,
    verifyUrl: verifyPath(row.verification_id),
    issuedAt: new Date(row.issued_at).toISOString(),
  });

  return {
    /** The job's work: idempotent, and only for a course the learner has completed. */
    async issue(userId: string, courseId: string): Promise<void> {
      if (await certificateOf(db, userId, courseId)) return;
      if (!(await courseCompletedAt(db, userId, courseId))) return;
      // a lookup that fails throws, and the job is retried
      const user = identity ? await identity.getUser(userId) : undefined;
      const course = await facts.course(courseId, { fresh: true });
      if (!course) return;
      const learnerName = user?.displayName ?? 'Learner';
      await inTransaction(db, async (trx) => {
        const issuedAt = clock();
        const row = await insertCertificate(trx, {
          id: randomUUID(),
          user_id: userId,
          course_id: courseId,
          verification_id: randomBytes(16).toString('base64url'),
          learner_name: learnerName,
          course_title: course.title,
          issued_at: issuedAt,
        });
        if (!row) return;
        await enqueue(trx, 'learning', [
          CertificateIssuedEvent.create(row.id, {
            certificateId: row.id,
            userId,
            courseId,
            courseTitle: course.title,
            verificationId: row.verification_id,
            issuedAt: issuedAt.toISOString(),
          }),
        ]);
      });
    },

    async mine(userId: string) {
      return { data: (await certificatesOfUser(db, userId)).map(view) };
    },

    /** The owner's PDF; someone else's certificate is "not found". */
    async pdf(userId: string, certificateId: string): Promise<Uint8Array> {
      const row = isUuid(certificateId) ? await certificateById(db, certificateId) : undefined;
      if (!row || row.user_id !== userId) throw NotFound.certificate();
      return renderCertificatePdf({
        learnerName: row.learner_name,
        courseTitle: row.course_title,
        issuedAt: new Date(row.issued_at),
        verificationId: row.verification_id,
        verifyUrl: `${publicUrl?.replace(/\/+$/, '') ?? ''}${verifyPath(row.verification_id)}`,
      });
    },

    /** Public: what the certificate with this verification id says; anything else is 404. */
    async verify(verificationId: string) {
      const row = VERIFICATION_ID.test(verificationId)
        ? await certificateByVerificationId(db, verificationId)
        : undefined;
      if (!row) throw NotFound.certificate();
      const { id: _id, ...rest } = view(row);
      return { ...rest, valid: true as const };
    },
  };
}

export type CertificatesService = ReturnType<typeof createCertificatesService>;
