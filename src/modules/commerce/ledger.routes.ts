import { requirePrincipal } from '../../platform/http/principal.js';
import { bearerSecurity } from '../../platform/http/problem.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import {
  AsOfQuery,
  EarningsPageQuery,
  InstructorEarningsPage,
  MyEarnings,
  PeriodQuery,
  TrialBalance,
} from './ledger.schemas.js';
import type { LedgerService } from './ledger.service.js';
import { rolesFor } from './permissions.js';

const dateOf = (value: string | undefined) => (value === undefined ? undefined : new Date(value));

export function ledgerRoutes(service: LedgerService) {
  return (app: App, { auth }: HttpKit) => {
    app.get(
      '/earnings',
      {
        preHandler: [auth.require({ roles: rolesFor('earnings:read-own') })],
        schema: {
          tags: ['commerce'],
          summary: "The caller's own earnings as an instructor, by currency, for a period",
          security: bearerSecurity,
          querystring: PeriodQuery,
          response: { 200: MyEarnings, ...errorResponses(400, 401, 403) },
        },
      },
      async (request) => {
        const instructorId = requirePrincipal(request).subject;
        const earnings = await service.instructorEarnings(instructorId, {
          from: dateOf(request.query.from),
          to: dateOf(request.query.to),
        });
        return { instructorId, earnings };
      },
    );

    app.get(
      '/admin/earnings',
      {
        preHandler: [auth.require({ roles: rolesFor('ledger:read-all') })],
        schema: {
          tags: ['commerce'],
          summary: "Every instructor's earnings by currency for a period (admin)",
          security: bearerSecurity,
          querystring: EarningsPageQuery,
          response: { 200: InstructorEarningsPage, ...errorResponses(400, 401, 403) },
        },
      },
      (request) =>
        service.earningsByInstructor(
          { from: dateOf(request.query.from), to: dateOf(request.query.to) },
          { limit: request.query.limit ?? 20, cursor: request.query.cursor },
        ),
    );

    app.get(
      '/admin/ledger/trial-balance',
      {
        preHandler: [auth.require({ roles: rolesFor('ledger:read-all') })],
        schema: {
          tags: ['commerce'],
          summary:
            'Balances of the earnings ledger by account and currency; each currency sums to zero (admin)',
          security: bearerSecurity,
          querystring: AsOfQuery,
          response: { 200: TrialBalance, ...errorResponses(400, 401, 403) },
        },
      },
      (request) => service.trialBalance(dateOf(request.query.asOf)),
    );
  };
}
