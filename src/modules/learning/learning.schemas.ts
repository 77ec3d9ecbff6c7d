import { Type } from 'typebox';
import { ProblemSchema } from '../../platform/http/problem.js';
import { DateTime, NonEmptyText, Uuid } from '../../platform/http/schemas.js';

export const LessonParams = Type.Object({ lessonId: Uuid });
export const CourseParams = Type.Object({ courseId: Uuid });
export const CertificateParams = Type.Object({ certificateId: Uuid });
export const VerificationParams = Type.Object({
  verificationId: Type.String({ minLength: 1, maxLength: 64 }),
});

export const ContentAccess = Type.Object({
  lessonId: Uuid,
  courseId: Uuid,
  access: Type.Union([
    Type.Literal('preview'),
    Type.Literal('entitled'),
    Type.Literal('instructor'),
    Type.Literal('admin'),
  ]),
  contentUrl: Type.String({ description: 'Opens this lesson’s file for this caller until expiresAt' }),
  expiresAt: DateTime,
});

export const ContentQuery = Type.Object({
  u: Type.String({ minLength: 1, maxLength: 64 }),
  exp: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }),
  sig: Type.String({ minLength: 1, maxLength: 128 }),
});

export const Enrolment = Type.Object({ courseId: Uuid, enrolled: Type.Boolean() });

export const GrantInput = Type.Object({ userId: Uuid, courseId: Uuid, reason: NonEmptyText(500) });
export const Granted = Type.Object({ userId: Uuid, courseId: Uuid, granted: Type.Boolean() });
export const Revoked = Type.Object({
  userId: Uuid,
  courseId: Uuid,
  entitled: Type.Boolean({
    description: 'Whether another grant (an order, free enrolment) still gives access',
  }),
});

/** Positions are whole seconds or pages; the bound is far beyond any lesson (115 days). */
export const ProgressInput = Type.Object({
  position: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
  completed: Type.Optional(Type.Boolean()),
  reportedAt: Type.Optional(DateTime),
});

export const ProgressState = Type.Object({
  lessonId: Uuid,
  courseId: Uuid,
  accepted: Type.Boolean({
    description: 'False when the report was older than the last one, or too soon after it',
  }),
  position: Type.Integer({ description: 'Furthest position reached' }),
  resumePosition: Type.Integer(),
  completed: Type.Boolean(),
  completedAt: Type.Union([DateTime, Type.Null()]),
  courseProgressPercent: Type.Integer({ minimum: 0, maximum: 100 }),
});

export const MyCourse = Type.Object({
  courseId: Uuid,
  progressPercent: Type.Integer({ minimum: 0, maximum: 100 }),
  completedLessons: Type.Integer(),
  totalLessons: Type.Integer(),
  lastLessonId: Type.Union([Uuid, Type.Null()]),
  resumePosition: Type.Integer(),
  lastActivityAt: DateTime,
  completedAt: Type.Union([DateTime, Type.Null()]),
});

export const TimeQuery = Type.Object({
  days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366, default: 30 })),
});
export const LearningTime = Type.Object({
  data: Type.Array(Type.Object({ day: Type.String({ format: 'date' }), seconds: Type.Integer() })),
});

const CertificateFields = {
  courseId: Uuid,
  courseTitle: Type.String(),
  learnerName: Type.String(),
  verificationId: Type.String(),
  verifyUrl: Type.String(),
  issuedAt: DateTime,
};
export const Certificate = Type.Object({ id: Uuid, ...CertificateFields });
export const CertificateList = Type.Object({ data: Type.Array(Certificate) });
export const Verification = Type.Object({ ...CertificateFields, valid: Type.Literal(true) });

/** 403 of a paid lesson: the Problem plus what a front end needs for a "buy" button. */
export const PurchaseProblem = Type.Object(
  {
    ...ProblemSchema.properties,
    courseId: Type.Optional(Uuid),
    price: Type.Optional(Type.Object({ amount: Type.Integer(), currency: Type.String() })),
    onSale: Type.Optional(Type.Boolean({ description: 'Whether the course can be bought now' })),
  },
  { description: 'RFC 9457 problem details; learning.purchase-required carries the course and its price' },
);

// internal routes: ids are free text here, as in the in-process API, where a non-uuid names nothing
const AnyId = Type.String({ minLength: 1, maxLength: 64 });
export const InternalUserParams = Type.Object({ userId: AnyId });
export const InternalShareParams = Type.Object({ userId: AnyId, courseId: AnyId });
export const OwnedQuery = Type.Object({
  courseIds: Type.String({
    maxLength: 100 * 65,
    description: 'Comma-separated course ids (at most 100)',
  }),
});
export const OwnedCourses = Type.Object({ courseIds: Type.Array(Type.String()) });
export const ConsumedShare = Type.Object({ share: Type.Number({ minimum: 0, maximum: 1 }) });
export const CanOpen = Type.Object({ canOpen: Type.Boolean() });
