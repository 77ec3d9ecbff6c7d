import { Type } from 'typebox';
import { pageOf } from '../../platform/http/pagination.js';
import { bearerSecurity as bearer } from '../../platform/http/problem.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { requireViewer, optionalViewer } from './access.service.js';
import { CourseParams, ListQuery, ReviewParams, tags } from './community.schemas.js';
import { type ListCache, sendJson } from './list-cache.js';
import {
  CourseRating,
  RatingListQuery,
  ReplyInput,
  Review,
  ReviewEdit,
  ReviewInput,
} from './reviews.schemas.js';
import type { ReviewsService } from './reviews.service.js';

export function reviewsRoutes(services: { reviews: ReviewsService; lists: ListCache }) {
  const { reviews, lists } = services;
  return (app: App, { auth }: HttpKit) => {
    const user = auth.require();
    const anyone = auth.optional();

    app.post(
      '/courses/:courseId/reviews',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'Review a course you own (one per learner and course)',
          security: bearer,
          params: CourseParams,
          body: ReviewInput,
          response: { 201: Review, ...errorResponses(400, 401, 403, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const review = await reviews.create(requireViewer(request), request.params.courseId, request.body);
        return reply.status(201).send(review);
      },
    );

    app.get(
      '/courses/:courseId/reviews',
      {
        preHandler: [anyone],
        schema: {
          tags,
          summary: 'Visible reviews of a course: newest, oldest, most helpful or best (Wilson)',
          security: bearer,
          params: CourseParams,
          querystring: ListQuery,
          response: { 200: pageOf(Review), ...errorResponses(400, 403) },
        },
      },
      // not async: a warm page is sent before the handler returns (undefined), with no promise
      (request, reply) => {
        const viewer = optionalViewer(request);
        const { courseId } = request.params;
        // a signed-in reader sees their own votes in the page, so only anonymous pages are shared
        if (viewer)
          return reviews.list(viewer, courseId, request.query).then((page) => sendJson(reply, page));
        return lists.send(
          request,
          reply,
          courseId,
          () => reviews.list(undefined, courseId, request.query),
          request.query.cursor !== undefined,
        );
      },
    );

    app.get(
      '/courses/:courseId/rating',
      {
        schema: {
          tags,
          summary: 'Rating aggregate of a course: count, mean, distribution, Bayesian average',
          params: CourseParams,
          response: { 200: CourseRating, ...errorResponses(400) },
        },
      },
      (request) => reviews.rating(request.params.courseId),
    );

    app.get(
      '/course-ratings',
      {
        schema: {
          tags,
          summary: 'Rated courses by Bayesian average, best first',
          querystring: RatingListQuery,
          response: { 200: pageOf(CourseRating), ...errorResponses(400) },
        },
      },
      (request) => reviews.ratings(request.query),
    );

    app.get(
      '/reviews/:reviewId',
      {
        preHandler: [anyone],
        schema: {
          tags,
          summary: 'One review (held or hidden ones only for their author and moderators)',
          security: bearer,
          params: ReviewParams,
          response: { 200: Review, ...errorResponses(400, 403, 404) },
        },
      },
      (request) => reviews.get(optionalViewer(request), request.params.reviewId),
    );

    app.patch(
      '/reviews/:reviewId',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'Edit your review',
          security: bearer,
          params: ReviewParams,
          body: ReviewEdit,
          response: { 200: Review, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => reviews.edit(requireViewer(request), request.params.reviewId, request.body),
    );

    app.delete(
      '/reviews/:reviewId',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'Delete your review',
          security: bearer,
          params: ReviewParams,
          response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        await reviews.remove(requireViewer(request), request.params.reviewId);
        return reply.status(204).send(null);
      },
    );

    app.put(
      '/reviews/:reviewId/reply',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'The instructor’s public reply to a review (one; sending again replaces it)',
          security: bearer,
          params: ReviewParams,
          body: ReplyInput,
          response: { 200: Review, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => reviews.reply(requireViewer(request), request.params.reviewId, request.body),
    );
  };
}
