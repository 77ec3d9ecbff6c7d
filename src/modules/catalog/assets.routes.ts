import multipart, { type FastifyMultipartBaseOptions } from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.js';
import { PageQuery, pageOf } from '../../platform/http/pagination.js';
import { problem, sendProblem } from '../../platform/http/problem.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { rolesFor } from './permissions.js';
import type { AssetsService, Delivery } from './assets.service.js';
import { actorOf, bearer, NoContent, Problem, requireActor } from './routes.common.js';
import { AssetKind, CourseParams } from './courses.schemas.js';
import { Asset, SignedUrl } from './assets.schemas.js';
import { CatalogErrors } from './catalog.errors.js';

const AssetParams = Type.Object({ assetId: Type.String({ format: 'uuid' }) });

/**
 * Multipart parsing for the upload route. Registered in the catalog's own plugin scope, so no
 * other module's routes accept multipart bodies by accident.
 */
export async function registerUploads(app: App): Promise<void> {
  await app.register(multipart, { throwFileSizeLimit: false });
}

/**
 * A refusal (401/403/404 before the body is read, 413/415 part-way through it) leaves the rest of
 * the upload unread on the socket. Kept alive, that connection would wait for the client to
 * finish sending a file nobody reads, and an ordinary client hears nothing until the keep-alive
 * timeout. Closing it answers at once and costs the client one reconnect; draining instead would
 * let a refused caller make us read gigabytes.
 */
function closeUnreadUpload(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (err: null, payload: unknown) => void,
): void {
  if (!request.raw.complete) reply.header('connection', 'close');
  done(null, payload);
}

export function assetsRoutes(assets: AssetsService) {
  return (app: App, { auth }: HttpKit) => {
    const author = auth.require({ roles: rolesFor('courses:author') });

    const requested = (request: FastifyRequest) => ({
      range: request.headers.range,
      headOnly: request.method === 'HEAD',
    });

    const send = (
      delivery: Delivery,
      request: Parameters<typeof sendProblem>[0],
      reply: Parameters<typeof sendProblem>[1],
    ) => {
      reply.headers(delivery.headers);
      if (delivery.status === 416) {
        return sendProblem(
          request,
          reply,
          problem(416, CatalogErrors.rangeNotSatisfiable, 'The requested range lies outside the file.'),
        );
      }
      reply.status(delivery.status);
      return reply.send(delivery.body);
    };

    app.post(
      '/courses/:courseId/assets',
      {
        preHandler: [author],
        onSend: closeUnreadUpload,
        schema: {
          tags: ['catalog'],
          summary: 'Upload a file to a course (multipart/form-data, one file part)',
          description:
            'The type is checked from the content; per-kind size limits apply (413). The file name is kept for ' +
            'display only. Video: MP4/WebM; audio; document: PDF; slides: PPTX/PPT/PDF; ebook: EPUB/PDF; image: PNG/JPEG/WebP/GIF/AVIF.',
          security: bearer,
          consumes: ['multipart/form-data'],
          params: CourseParams,
          querystring: Type.Object({ kind: AssetKind }),
          response: {
            201: Asset,
            400: Problem,
            401: Problem,
            403: Problem,
            404: Problem,
            409: Problem,
            413: Problem,
            415: Problem,
          },
        },
      },
      async (request, reply) => {
        const actor = requireActor(request);
        const { kind } = request.query;
        const options: FastifyMultipartBaseOptions = {
          throwFileSizeLimit: false,
          // one byte over the limit is enough to know it is too large; the inspector refuses it
          limits: { fileSize: assets.limits[kind] + 1, files: 1, fields: 10, parts: 11 },
        };
        await assets.assertUploadable(actor, request.params.courseId);
        let part: Awaited<ReturnType<typeof request.file>>;
        try {
          part = await request.file(options);
        } catch (err) {
          // busboy throws plain errors for a malformed body (no boundary, bad headers)
          if (err instanceof AppError || (err as { statusCode?: number }).statusCode) throw err;
          throw AppError.validation(CatalogErrors.badMultipart, 'The body is not valid multipart/form-data.');
        }
        if (!part) {
          throw AppError.validation(
            CatalogErrors.fileRequired,
            'Send the file as a multipart/form-data file part.',
            [{ field: '/body/file', message: 'is required' }],
          );
        }
        const asset = await assets.upload(actor, request.params.courseId, kind, {
          filename: part.filename,
          stream: part.file,
        });
        return reply.status(201).send(asset);
      },
    );

    app.get(
      '/courses/:courseId/assets',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Files uploaded to a course, newest first',
          security: bearer,
          params: CourseParams,
          querystring: PageQuery,
          response: { 200: pageOf(Asset), 400: Problem, 401: Problem, 403: Problem, 404: Problem },
        },
      },
      (request) => assets.list(requireActor(request), request.params.courseId, request.query),
    );

    app.delete(
      '/assets/:assetId',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Delete a file no lesson or cover uses',
          security: bearer,
          params: AssetParams,
          response: { 204: NoContent, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
        },
      },
      async (request, reply) => {
        await assets.remove(requireActor(request), request.params.assetId);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/assets/:assetId/url',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'A signed URL to any file of my course (preview)',
          security: bearer,
          params: AssetParams,
          response: { 200: SignedUrl, 401: Problem, 403: Problem, 404: Problem },
        },
      },
      (request) => assets.editorUrl(requireActor(request), request.params.assetId),
    );

    // GET and HEAD share a handler: Fastify's automatic HEAD route would read the whole file
    // only to throw it away
    app.route({
      method: ['GET', 'HEAD'],
      url: '/assets/:assetId/content',
      schema: {
        tags: ['catalog'],
        summary: 'The bytes behind a signed URL (supports Range)',
        params: AssetParams,
        querystring: Type.Object({
          exp: Type.Integer({ minimum: 0, maximum: 99_999_999_999 }),
          sig: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
        }),
        response: { 400: Problem, 403: Problem, 404: Problem, 410: Problem, 416: Problem },
      },
      handler: async (request, reply) =>
        send(
          await assets.open(request.params.assetId, request.query.exp, request.query.sig, requested(request)),
          request,
          reply,
        ),
    });

    app.route({
      method: ['GET', 'HEAD'],
      url: '/courses/:courseId/cover',
      preHandler: [auth.optional()],
      schema: {
        tags: ['catalog'],
        summary: 'A course’s cover image',
        params: CourseParams,
        querystring: Type.Object({ v: Type.Optional(Type.String({ maxLength: 64 })) }),
        response: { 401: Problem, 404: Problem, 416: Problem },
      },
      handler: async (request, reply) =>
        send(
          await assets.cover(actorOf(request), request.params.courseId, requested(request)),
          request,
          reply,
        ),
    });
  };
}
