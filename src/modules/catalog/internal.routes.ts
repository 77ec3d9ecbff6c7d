import { MoneySchema } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { INTERNAL_SCOPE } from '../identity/index.js';
import { CATALOG_INTERNAL_PREFIX, type CatalogApi } from './catalog.api.js';
import { CatalogErrors, NotFound } from './catalog.errors.js';
import {
  CatalogLesson,
  CatalogLessons,
  CourseForSale,
  InternalAssetParams,
  InternalCourseParams,
  InternalLessonParams,
  InternalSignedUrl,
  PublishedCourseIds,
  PublishedQuery,
  SignQuery,
} from './internal.schemas.js';

/**
 * The catalog's API for modules in other processes (learning, community, commerce, analytics):
 * service clients with the internal scope only (a user token passes scope checks by role, so it
 * is refused explicitly); hidden from the public OpenAPI document. Every route is a read (GET),
 * so the client may retry it.
 */
export function catalogInternalRoutes(api: CatalogApi) {
  return (app: App, { auth }: HttpKit) => {
    const preHandler = [auth.require({ clientsOnly: CatalogErrors.internalOnly, scopes: [INTERNAL_SCOPE] })];
    const course = `${CATALOG_INTERNAL_PREFIX}/courses/:courseId`;

    app.get(
      `${course}/for-sale`,
      { preHandler, schema: { hide: true, params: InternalCourseParams, response: { 200: CourseForSale } } },
      async (request) => {
        const found = await api.getCourseForSale(request.params.courseId);
        if (!found) throw NotFound.course();
        return found;
      },
    );
    app.get(
      `${course}/price`,
      { preHandler, schema: { hide: true, params: InternalCourseParams, response: { 200: MoneySchema } } },
      async (request) => {
        const price = await api.getCoursePrice(request.params.courseId);
        if (!price) throw NotFound.course();
        return price;
      },
    );
    // an unknown course has no lessons: 200 with an empty list, as the in-process API answers
    app.get(
      `${course}/lessons`,
      { preHandler, schema: { hide: true, params: InternalCourseParams, response: { 200: CatalogLessons } } },
      async (request) => ({ lessons: await api.lessonsOfCourse(request.params.courseId) }),
    );
    app.get(
      `${CATALOG_INTERNAL_PREFIX}/lessons/:lessonId`,
      { preHandler, schema: { hide: true, params: InternalLessonParams, response: { 200: CatalogLesson } } },
      async (request) => {
        const lesson = await api.getLesson(request.params.lessonId);
        if (!lesson) throw NotFound.lesson();
        return lesson;
      },
    );
    app.get(
      `${CATALOG_INTERNAL_PREFIX}/demo-course-ids`,
      {
        preHandler,
        schema: { hide: true, querystring: PublishedQuery, response: { 200: PublishedCourseIds } },
      },
      async (request) => {
        return { courseIds: await api.demoCourseIds(request.query.limit) };
      },
    );
    // signing changes nothing stored (an HMAC over the id and expiry), so it is a GET too
    app.get(
      `${CATALOG_INTERNAL_PREFIX}/assets/:assetId/signed-url`,
      {
        preHandler,
        schema: {
          hide: true,
          params: InternalAssetParams,
          querystring: SignQuery,
          response: { 200: InternalSignedUrl },
        },
      },
      async (request) => {
        return api.signAssetUrl(request.params.assetId, request.query.ttlSeconds);
      },
    );
  };
}
