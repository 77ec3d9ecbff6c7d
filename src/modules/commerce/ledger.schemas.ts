import { type Static, Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http/pagination.js';
import { DateTime, Uuid } from '../../platform/http/schemas.js';

/** `from` inclusive, `to` exclusive, both UTC. */
export const PeriodQuery = Type.Object(
  { from: Type.Optional(DateTime), to: Type.Optional(DateTime) },
  { additionalProperties: false },
);
export type PeriodQuery = Static<typeof PeriodQuery>;

export const EarningsPageQuery = Type.Object(
  { ...PeriodQuery.properties, ...PageQuery.properties },
  { additionalProperties: false },
);

const Minor = Type.Integer({ description: 'Minor units of `currency`' });
const Currency = Type.String({ pattern: '^[A-Z]{3}$' });

const earningsFields = { currency: Currency, sales: Minor, refunds: Minor, net: Minor };
export const Earnings = Type.Object(earningsFields);

export const MyEarnings = Type.Object({ instructorId: Uuid, earnings: Type.Array(Earnings) });

export const InstructorEarnings = Type.Object({ instructorId: Uuid, ...earningsFields });
export const InstructorEarningsPage = pageOf(InstructorEarnings);

export const TrialBalance = Type.Object({
  accounts: Type.Array(
    Type.Object({
      account: Type.Union([
        Type.Literal('provider_clearing'),
        Type.Literal('platform_revenue'),
        Type.Literal('instructor_payable'),
        Type.Literal('payout_clearing'),
      ]),
      currency: Currency,
      /** Debit positive, credit negative. */
      balance: Type.Integer(),
    }),
  ),
  totals: Type.Array(Type.Object({ currency: Currency, balance: Type.Integer() })),
  unbalancedJournals: Type.Integer(),
});

export const AsOfQuery = Type.Object({ asOf: Type.Optional(DateTime) }, { additionalProperties: false });
