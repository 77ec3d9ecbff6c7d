import type { FastifyReply } from 'fastify';
import { bearerSecurity as bearer } from '../../platform/http/problem.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { type ChartPoint, lineChart } from './chart.js';
import { csvStream } from './csv.js';
import { rolesFor } from './permissions.js';
import {
  Engagement,
  EngagementQuery,
  SalesQuery,
  SalesSeries,
  SearchMisses,
  SearchMissesQuery,
  TopCourses,
  TopCoursesQuery,
} from './reports.schemas.js';
import type { ReportsService } from './reports.service.js';
import { requireViewer, tags } from './routes.common.js';

const FORMATS =
  ' `format=csv` streams the same rows as text/csv; `format=svg` draws them as an SVG line chart.';

const sendCsv = (reply: FastifyReply, name: string, body: NodeJS.ReadableStream) =>
  reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}.csv"`)
    .send(body);

const sendSvg = (reply: FastifyReply, svg: string) => reply.type('image/svg+xml; charset=utf-8').send(svg);

export function reportsRoutes(reports: ReportsService) {
  return (app: App, { auth }: HttpKit) => {
    const courseReaders = auth.require({ roles: rolesFor('analytics:read-own-courses') });
    const platformReaders = auth.require({ roles: rolesFor('analytics:read-platform') });

    app.get(
      '/analytics/reports/sales',
      {
        preHandler: [courseReaders],
        schema: {
          tags,
          summary: 'Daily orders, revenue and refunds per currency: platform-wide (admin), or your courses',
          description: `An instructor sees the courses they teach; another instructor's course is a 404.${FORMATS}`,
          security: bearer,
          querystring: SalesQuery,
          response: { 200: SalesSeries, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const viewer = requireViewer(request);
        const { format, courseId, ...range } = request.query;
        if (format === 'csv') {
          const pages = await reports.salesPages(viewer, range, courseId);
          const columns = ['day', 'currency', 'orders', 'revenue', 'refunds'].map((key) => ({
            key,
            header: key === 'revenue' || key === 'refunds' ? `${key}_minor_units` : key,
          }));
          return sendCsv(
            reply,
            `sales-${range.from}-${range.to}`,
            csvStream(columns, pages, (p) => ({
              day: p.day,
              currency: p.currency,
              orders: p.orders,
              revenue: p.revenue.amount,
              refunds: p.refunds.amount,
            })),
          );
        }
        const series = await reports.sales(viewer, range, courseId);
        if (format === 'svg') {
          const points: ChartPoint[] = series.data.map((p) => ({
            day: p.day,
            series: `revenue ${p.currency}`,
            value: p.revenue.amount,
          }));
          return sendSvg(
            reply,
            await lineChart({ title: `Revenue ${range.from} – ${range.to}`, yTitle: 'minor units', points }),
          );
        }
        return series;
      },
    );

    app.get(
      '/analytics/reports/top-courses',
      {
        preHandler: [courseReaders],
        schema: {
          tags,
          summary: 'Courses ranked by revenue, buyers or views over a range: all (admin), or yours',
          description: ' `format=csv` streams the same rows as text/csv.',
          security: bearer,
          querystring: TopCoursesQuery,
          response: { 200: TopCourses, ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const { format, ...query } = request.query;
        const data = await reports.top(requireViewer(request), query);
        if (format !== 'csv') return { data };
        const columns = [
          'courseId',
          'title',
          'views',
          'viewerDays',
          'buyers',
          'conversion',
          'revenue',
          'refunds',
        ].map((key) => ({ key, header: key }));
        return sendCsv(
          reply,
          `top-courses-${query.from}-${query.to}`,
          csvStream(columns, [data], (c) => ({
            ...c,
            revenue: c.revenue.amount,
            refunds: c.refunds.amount,
          })),
        );
      },
    );

    app.get(
      '/admin/analytics/engagement',
      {
        preHandler: [platformReaders],
        schema: {
          tags,
          summary:
            'Daily new users, DAU/WAU/MAU, course views, learning minutes, enrolments, completions, searches',
          description: FORMATS,
          security: bearer,
          querystring: EngagementQuery,
          response: { 200: Engagement, ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const { format, ...range } = request.query;
        const data = await reports.engagement(range);
        if (format === 'svg') {
          const points = data.flatMap((p) => [
            { day: p.day, series: 'DAU', value: p.dau },
            { day: p.day, series: 'WAU', value: p.wau },
            { day: p.day, series: 'MAU', value: p.mau },
          ]);
          return sendSvg(reply, await lineChart({ title: 'Active users', yTitle: 'users', points }));
        }
        if (format === 'csv') {
          const first = data[0];
          const columns = Object.keys(first ?? { day: '' }).map((key) => ({ key, header: key }));
          return sendCsv(
            reply,
            `engagement-${range.from}-${range.to}`,
            csvStream(columns, [data], (p) => ({ ...p })),
          );
        }
        return { data };
      },
    );

    app.get(
      '/admin/analytics/search-misses',
      {
        preHandler: [platformReaders],
        schema: {
          tags,
          summary: 'The searches that found nothing, most frequent first',
          security: bearer,
          querystring: SearchMissesQuery,
          response: { 200: SearchMisses, ...errorResponses(400, 401, 403) },
        },
      },
      async (request) => {
        const { limit, ...range } = request.query;
        return { data: await reports.searchMisses(range, limit) };
      },
    );
  };
}
