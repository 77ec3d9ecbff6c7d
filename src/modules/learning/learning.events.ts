import { type Static, Type } from 'typebox';
import { defineEvent } from '../../platform/messaging/events.js';

/**
 * Events the learning module publishes, each declared once with its schema; every `data` shape
 * below is version 1.
 */

const Id = Type.String({ minLength: 1 });
const DateTime = Type.String({ format: 'date-time' });

export const EntitlementGrantedEvent = defineEvent({
  type: 'learning.entitlement.granted',
  version: 1,
  schema: Type.Object({
    userId: Id,
    courseId: Id,
    /** What granted it: a paid order, free enrolment or an admin. */
    source: Type.Union([Type.Literal('order'), Type.Literal('free'), Type.Literal('admin')]),
    sourceId: Type.Union([Id, Type.Null()]),
    grantedAt: DateTime,
  }),
});
export type EntitlementGranted = Static<typeof EntitlementGrantedEvent.schema>;

export const EntitlementRevokedEvent = defineEvent({
  type: 'learning.entitlement.revoked',
  version: 1,
  schema: Type.Object({
    userId: Id,
    courseId: Id,
    source: Type.Union([Type.Literal('order'), Type.Literal('free'), Type.Literal('admin')]),
    sourceId: Type.Union([Id, Type.Null()]),
    reason: Type.String(),
    revokedAt: DateTime,
  }),
});
export type EntitlementRevoked = Static<typeof EntitlementRevokedEvent.schema>;

export const LessonCompletedEvent = defineEvent({
  type: 'learning.lesson.completed',
  version: 1,
  schema: Type.Object({ userId: Id, courseId: Id, lessonId: Id, completedAt: DateTime }),
});
export type LessonCompleted = Static<typeof LessonCompletedEvent.schema>;

export const CourseCompletedEvent = defineEvent({
  type: 'learning.course.completed',
  version: 1,
  schema: Type.Object({ userId: Id, courseId: Id, completedAt: DateTime }),
});
export type CourseCompleted = Static<typeof CourseCompletedEvent.schema>;

export const CertificateIssuedEvent = defineEvent({
  type: 'learning.certificate.issued',
  version: 1,
  schema: Type.Object({
    certificateId: Id,
    userId: Id,
    courseId: Id,
    courseTitle: Type.String(),
    /** The public verification id printed on the certificate. */
    verificationId: Type.String(),
    issuedAt: DateTime,
  }),
});
export type CertificateIssued = Static<typeof CertificateIssuedEvent.schema>;

export const LearningEvents = [
  EntitlementGrantedEvent,
  EntitlementRevokedEvent,
  LessonCompletedEvent,
  CourseCompletedEvent,
  CertificateIssuedEvent,
] as const;
