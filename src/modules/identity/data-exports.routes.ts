import { bearerSecurity as security, ProblemRef as Problem } from '../../platform/http/problem.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import type { DataExports } from './data-exports.service.js';
import {
  DataExport,
  DataExportBody,
  DataExportDocument,
  DataExportList,
  DataExportParams,
} from './data-exports.schemas.js';
import { guards, metaOf, principalOf } from './route-kit.js';

const tags = ['identity: account'];
const guarded = { 401: Problem, 403: Problem };

/** A copy of my personal data (个人信息副本): ask for it, watch it being prepared, download it. */
export function dataExportRoutes(dataExports: DataExports) {
  return (app: App, kit: HttpKit): void => {
    const own = guards(kit).allow('profile:own');

    app.post(
      '/me/data-exports',
      {
        preHandler: own,
        schema: {
          tags,
          summary: 'Ask for a copy of my personal data (password required)',
          description:
            'Every module writes its part; the copy is `ready` within moments and can be downloaded ' +
            'for 7 days. Once a day at most (429 with Retry-After).',
          security,
          body: DataExportBody,
          response: { 202: DataExport, 400: Problem, ...guarded, 404: Problem, 429: Problem },
        },
      },
      async (request, reply) => {
        const created = await dataExports.request(
          principalOf(request).subject,
          request.body,
          metaOf(request),
        );
        return reply.status(202).send(created);
      },
    );

    app.get(
      '/me/data-exports',
      {
        preHandler: own,
        schema: {
          tags,
          summary: 'My copies of my data that can still be downloaded',
          security,
          response: { 200: DataExportList, ...guarded },
        },
      },
      async (request) => ({ data: await dataExports.list(principalOf(request).subject) }),
    );

    app.get(
      '/me/data-exports/:id',
      {
        preHandler: own,
        schema: {
          tags,
          summary: 'One copy of my data: preparing or ready',
          security,
          params: DataExportParams,
          response: { 200: DataExport, 400: Problem, ...guarded, 404: Problem },
        },
      },
      (request) => dataExports.get(principalOf(request).subject, request.params.id),
    );

    app.get(
      '/me/data-exports/:id/download',
      {
        preHandler: own,
        schema: {
          tags,
          summary: 'Download a copy of my data, as one JSON document',
          description: '409 while a part is still being prepared.',
          security,
          params: DataExportParams,
          response: { 200: DataExportDocument, 400: Problem, ...guarded, 404: Problem, 409: Problem },
        },
      },
      async (request, reply) => {
        const { body, requestedAt } = await dataExports.download(
          principalOf(request).subject,
          request.params.id,
          metaOf(request),
        );
        const day = requestedAt.toISOString().slice(0, 10);
        return reply
          .type('application/json; charset=utf-8')
          .header('content-disposition', `attachment; filename="lectern-data-${day}.json"`)
          .send(body);
      },
    );
  };
}
