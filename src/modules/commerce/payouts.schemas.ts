import { type Static, Type } from 'typebox';
import { PageQuery } from '../../platform/http/pagination.js';
import { DateTime, MoneySchema, NonEmptyText, Uuid } from '../../platform/http/schemas.js';
import { PAYOUT_STATUSES } from './tables.js';

export const PayoutStatusSchema = Type.Enum([...PAYOUT_STATUSES]);

export const RequestPayoutBody = Type.Object(
  {
    amount: Type.Integer({
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'Minor units of `currency`; at most what is available',
    }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' }),
  },
  { additionalProperties: false },
);
export type RequestPayoutBody = Static<typeof RequestPayoutBody>;

export const PaidBody = Type.Object(
  { reference: NonEmptyText(200) },
  { additionalProperties: false, description: 'The bank transfer’s reference' },
);
export const RejectBody = Type.Object({ reason: NonEmptyText(500) }, { additionalProperties: false });

const Minor = Type.Integer({ description: 'Minor units of `currency`' });

/** One currency of an instructor's payout balance; available = earned − pending − reserved − paidOut. */
export const PayoutBalance = Type.Object({
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  earned: Type.Integer({ description: 'Shares of sales less refunds, all ages' }),
  pending: Type.Integer({ description: 'Shares of sales still inside the refund window' }),
  reserved: Type.Integer({ description: 'Held by payout requests not yet paid or rejected' }),
  paidOut: Minor,
  available: Type.Integer({
    description: 'What a payout may be asked for now (below zero after a late refund)',
  }),
});
export type PayoutBalanceView = Static<typeof PayoutBalance>;
export const PayoutBalances = Type.Object({
  instructorId: Uuid,
  windowDays: Type.Integer(),
  balances: Type.Array(PayoutBalance),
});

export const Payout = Type.Object({
  id: Uuid,
  instructorId: Uuid,
  amount: MoneySchema,
  status: PayoutStatusSchema,
  reference: Type.Union([Type.String(), Type.Null()]),
  rejectionReason: Type.Union([Type.String(), Type.Null()]),
  /** The admin who decided; shown to admins only. */
  decidedBy: Type.Optional(Type.Union([Uuid, Type.Null()])),
  decidedAt: Type.Union([DateTime, Type.Null()]),
  createdAt: DateTime,
  updatedAt: DateTime,
  transitions: Type.Array(
    Type.Object({
      from: Type.Union([PayoutStatusSchema, Type.Null()]),
      to: PayoutStatusSchema,
      actorKind: Type.String(),
      reason: Type.String(),
      at: DateTime,
    }),
  ),
});
export type PayoutView = Static<typeof Payout>;

export const AdminPayoutQuery = Type.Object(
  { ...PageQuery.properties, status: Type.Optional(PayoutStatusSchema) },
  { additionalProperties: false },
);
