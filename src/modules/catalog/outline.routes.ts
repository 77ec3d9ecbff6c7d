import { Type } from 'typebox';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { rolesFor } from './permissions.js';
import type { AssetsService } from './assets.service.js';
import { actorOf, bearer, NoContent, Problem, requireActor } from './routes.common.js';
import {
  Chapter,
  CourseDetail,
  CourseParams,
  CreateChapterBody,
  CreateLessonBody,
  Lesson,
  ReorderBody,
  UpdateChapterBody,
  UpdateLessonBody,
} from './courses.schemas.js';
import { SignedUrl } from './assets.schemas.js';
import type { OutlineService } from './outline.service.js';

const ChapterParams = Type.Object({ chapterId: Type.String({ format: 'uuid' }) });
const LessonParams = Type.Object({ lessonId: Type.String({ format: 'uuid' }) });

export function outlineRoutes(outline: OutlineService, assets: AssetsService) {
  return (app: App, { auth }: HttpKit) => {
    const author = auth.require({ roles: rolesFor('courses:author') });

    app.post(
      '/courses/:courseId/chapters',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Add a chapter at the end of the outline',
          security: bearer,
          params: CourseParams,
          body: CreateChapterBody,
          response: { 201: Chapter, 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(await outline.createChapter(requireActor(request), request.params.courseId, request.body)),
    );

    app.patch(
      '/chapters/:chapterId',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Rename a chapter',
          security: bearer,
          params: ChapterParams,
          body: UpdateChapterBody,
          response: { 200: Chapter, 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
        },
      },
      (request) => outline.renameChapter(requireActor(request), request.params.chapterId, request.body),
    );

    app.delete(
      '/chapters/:chapterId',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Delete an empty chapter',
          security: bearer,
          params: ChapterParams,
          response: { 204: NoContent, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
        },
      },
      async (request, reply) => {
        await outline.deleteChapter(requireActor(request), request.params.chapterId);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/chapters/:chapterId/lessons',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Add a lesson at the end of a chapter',
          description:
            'Video, document, slides and e-book lessons point at an uploaded file; articles carry a Markdown body.',
          security: bearer,
          params: ChapterParams,
          body: CreateLessonBody,
          response: { 201: Lesson, 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(await outline.createLesson(requireActor(request), request.params.chapterId, request.body)),
    );

    app.get(
      '/lessons/:lessonId',
      {
        preHandler: [auth.optional()],
        schema: {
          tags: ['catalog'],
          summary: 'A lesson; its body only for those who may open it',
          params: LessonParams,
          response: { 200: Lesson, 401: Problem, 404: Problem },
        },
      },
      (request) => outline.lesson(actorOf(request), request.params.lessonId),
    );

    app.patch(
      '/lessons/:lessonId',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Edit a lesson',
          security: bearer,
          params: LessonParams,
          body: UpdateLessonBody,
          response: { 200: Lesson, 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
        },
      },
      (request) => outline.updateLesson(requireActor(request), request.params.lessonId, request.body),
    );

    app.delete(
      '/lessons/:lessonId',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Delete a lesson',
          security: bearer,
          params: LessonParams,
          response: { 204: NoContent, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
        },
      },
      async (request, reply) => {
        await outline.deleteLesson(requireActor(request), request.params.lessonId);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/lessons/:lessonId/asset-url',
      {
        preHandler: [auth.optional()],
        schema: {
          tags: ['catalog'],
          summary: 'A short-lived signed URL to a lesson’s file',
          description:
            'Free-preview lessons: anyone. Paid lessons: the course’s instructor and admins (and, once the ' +
            'learning module exists, learners it entitles).',
          params: LessonParams,
          response: { 200: SignedUrl, 401: Problem, 403: Problem, 404: Problem },
        },
      },
      (request) => assets.lessonUrl(actorOf(request), request.params.lessonId),
    );

    app.put(
      '/courses/:courseId/outline',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Reorder chapters and lessons',
          description: 'List every chapter once and every lesson once; lessons may move between chapters.',
          security: bearer,
          params: CourseParams,
          body: ReorderBody,
          response: {
            200: CourseDetail,
            400: Problem,
            401: Problem,
            403: Problem,
            404: Problem,
            409: Problem,
          },
        },
      },
      (request) => outline.reorder(requireActor(request), request.params.courseId, request.body),
    );
  };
}
