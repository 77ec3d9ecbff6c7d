import { Type } from 'typebox';
import { defineJob, type JobDefinition } from '../../platform/jobs/job.js';

export const IssueCertificateData = Type.Object({
  userId: Type.String({ format: 'uuid' }),
  courseId: Type.String({ format: 'uuid' }),
});

export type IssueCertificateJob = JobDefinition<typeof IssueCertificateData>;

/**
 * `learning.issue-certificate`: sent in the transaction that completes a course, so it exists
 * exactly when the completion does; retried (identity or the catalog may be down), and
 * idempotent (one certificate per learner and course).
 */
export function createLearningJobs(issue: (userId: string, courseId: string) => Promise<void>) {
  const issueCertificate: IssueCertificateJob = defineJob({
    name: 'learning.issue-certificate',
    data: IssueCertificateData,
    retry: { limit: 8, delaySeconds: 10, backoff: true },
    uniqueByKey: true,
    handle: (data) => issue(data.userId, data.courseId),
  });
  return { issueCertificate };
}
