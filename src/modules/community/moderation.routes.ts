import { Type } from 'typebox';
import { pageOf } from '../../platform/http/pagination.js';
import { bearerSecurity as bearer } from '../../platform/http/problem.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { requireViewer } from './access.service.js';
import {
  DateTime,
  PlainText,
  ReportInput,
  Reported,
  Status,
  SUBJECTS,
  tags,
  Uuid,
} from './community.schemas.js';
import type { ModerationService } from './moderation.service.js';
import { rolesFor } from './permissions.js';

const SubjectType = Type.Union([Type.Literal('review'), Type.Literal('comment')]);
const QueueItem = Type.Object({
  subjectType: SubjectType,
  id: Uuid,
  status: Status,
  authorId: Uuid,
  courseId: Uuid,
  body: Type.String(),
  openReports: Type.Integer(),
  reportReasons: Type.Array(Type.String()),
  /** A review's instructor reply held by the word list (decide on it with `part: reply`). */
  heldReply: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime,
});
const Decision = Type.Object(
  {
    action: Type.Union([Type.Literal('approve'), Type.Literal('hide'), Type.Literal('delete')]),
    reason: PlainText(500),
    /** `reply`: the decision is on the instructor's reply of a review, not on the review. */
    part: Type.Optional(Type.Union([Type.Literal('item'), Type.Literal('reply')], { default: 'item' })),
  },
  { additionalProperties: false },
);
const Decided = Type.Object({
  subjectType: SubjectType,
  id: Uuid,
  status: Type.Union([Status, Type.Literal('deleted')]),
});
const AuditEntry = Type.Object({
  subjectType: SubjectType,
  subjectId: Uuid,
  /** `reply`: the entry is about the review's instructor reply. */
  part: Type.Union([Type.Literal('item'), Type.Literal('reply')]),
  action: Type.String(),
  actorId: Type.Union([Uuid, Type.Null()]),
  /** Who wrote the post or reply, kept after it is deleted; null on old entries of posts already gone. */
  authorId: Type.Union([Uuid, Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  at: DateTime,
});
const SubjectParams = Type.Object({
  subjectType: Type.Union([Type.Literal('reviews'), Type.Literal('comments')]),
  id: Uuid,
});

export function moderationRoutes(moderation: ModerationService) {
  return (app: App, { auth }: HttpKit) => {
    const moderator = auth.require({ roles: rolesFor('community:moderate') });
    const user = auth.require();

    for (const subject of SUBJECTS) {
      app.post(
        `/${subject.plural}/:id/reports`,
        {
          preHandler: [user],
          schema: {
            tags,
            summary: `Report a ${subject.type} to the moderators, with a reason`,
            security: bearer,
            params: subject.params,
            body: ReportInput,
            response: { 202: Reported, ...errorResponses(400, 401, 403, 404, 429) },
          },
        },
        async (request, reply) =>
          reply
            .status(202)
            .send(
              await moderation.report(requireViewer(request), subject.type, request.params.id, request.body),
            ),
      );
    }

    app.get(
      '/admin/community/queue',
      {
        preHandler: [moderator],
        schema: {
          tags,
          summary: 'Held and reported reviews and comments, oldest first',
          security: bearer,
          querystring: Type.Object({
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
            cursor: Type.Optional(Type.String({ maxLength: 512 })),
          }),
          response: { 200: pageOf(QueueItem), ...errorResponses(400, 401, 403) },
        },
      },
      (request) => moderation.queue(request.query),
    );

    app.post(
      '/admin/community/:subjectType/:id/decision',
      {
        preHandler: [moderator],
        schema: {
          tags,
          summary: 'Approve, hide or delete a review or comment, with a reason (kept in the audit trail)',
          security: bearer,
          params: SubjectParams,
          body: Decision,
          response: { 200: Decided, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) =>
        moderation.decide(
          requireViewer(request),
          request.params.subjectType === 'reviews' ? 'review' : 'comment',
          request.params.id,
          request.body,
        ),
    );

    app.get(
      '/admin/community/:subjectType/:id/audit',
      {
        preHandler: [moderator],
        schema: {
          tags,
          summary: 'Everything that happened to a review or comment in moderation',
          security: bearer,
          params: SubjectParams,
          response: { 200: Type.Object({ data: Type.Array(AuditEntry) }), ...errorResponses(400, 401, 403) },
        },
      },
      (request) => moderation.audit(request.params.id),
    );
  };
}
