import { Type } from 'typebox';
import { pageOf } from '../../platform/http/pagination.js';
import { bearerSecurity as bearer } from '../../platform/http/problem.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { optionalViewer, requireViewer } from './access.service.js';
import { CommentParams, LessonParams, ListQuery, tags } from './community.schemas.js';
import { Comment, CommentEdit, CommentInput, Thread } from './comments.schemas.js';
import type { CommentsService } from './comments.service.js';

export function commentsRoutes(comments: CommentsService) {
  return (app: App, { auth }: HttpKit) => {
    const user = auth.require();
    const anyone = auth.optional();

    app.post(
      '/lessons/:lessonId/comments',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'Comment on a lesson you may open, or reply to a top-level comment (parentId)',
          security: bearer,
          params: LessonParams,
          body: CommentInput,
          response: { 201: Comment, ...errorResponses(400, 401, 403, 404, 429) },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(await comments.create(requireViewer(request), request.params.lessonId, request.body)),
    );

    app.get(
      '/lessons/:lessonId/comments',
      {
        preHandler: [anyone],
        schema: {
          tags,
          summary: 'The lesson’s discussion: top-level comments in the chosen order, each with its replies',
          security: bearer,
          params: LessonParams,
          querystring: ListQuery,
          response: { 200: pageOf(Thread), ...errorResponses(400, 403, 404) },
        },
      },
      (request) => comments.list(optionalViewer(request), request.params.lessonId, request.query),
    );

    app.get(
      '/comments/:commentId',
      {
        preHandler: [anyone],
        schema: {
          tags,
          summary: 'One comment (held or hidden ones only for their author and moderators)',
          security: bearer,
          params: CommentParams,
          response: { 200: Comment, ...errorResponses(400, 403, 404) },
        },
      },
      (request) => comments.get(optionalViewer(request), request.params.commentId),
    );

    app.patch(
      '/comments/:commentId',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'Edit your comment',
          security: bearer,
          params: CommentParams,
          body: CommentEdit,
          response: { 200: Comment, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => comments.edit(requireViewer(request), request.params.commentId, request.body),
    );

    app.delete(
      '/comments/:commentId',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'Delete your comment (its replies go with it)',
          security: bearer,
          params: CommentParams,
          response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        await comments.remove(requireViewer(request), request.params.commentId);
        return reply.status(204).send(null);
      },
    );
  };
}
