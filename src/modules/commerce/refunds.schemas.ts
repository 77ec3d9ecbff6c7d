import { type Static, Type } from 'typebox';
import { PageQuery } from '../../platform/http/pagination.js';
import { DateTime, MoneySchema, NonEmptyText, Uuid } from '../../platform/http/schemas.js';
import { REFUND_STATUSES } from './tables.js';

export const RefundStatusSchema = Type.Enum([...REFUND_STATUSES]);

export const CreateRefundBody = Type.Object({
  amount: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 2_147_483_647,
      description:
        'Minor units of the order’s currency; default: everything still refundable of the chosen courses',
    }),
  ),
  courseIds: Type.Optional(
    Type.Array(Uuid, {
      minItems: 1,
      maxItems: 20,
      description:
        'The order lines to refund; default: every line. A line refunded in full loses its access; a partial amount revokes nothing.',
    }),
  ),
  reason: NonEmptyText(500),
});
export type CreateRefundBody = Static<typeof CreateRefundBody>;

export const DecisionBody = Type.Object({ reason: NonEmptyText(500) });

const Actor = Type.Object({ kind: Type.String(), id: Type.Union([Type.String(), Type.Null()]) });

export const Refund = Type.Object({
  id: Uuid,
  orderId: Uuid,
  userId: Uuid,
  status: RefundStatusSchema,
  amount: MoneySchema,
  lines: Type.Array(Type.Object({ courseId: Uuid, amount: MoneySchema })),
  reason: Type.String(),
  requestedBy: Actor,
  consumedShareBps: Type.Union([Type.Integer(), Type.Null()]),
  reviewReason: Type.Union([Type.String(), Type.Null()]),
  decidedBy: Type.Union([Actor, Type.Null()]),
  decisionReason: Type.Union([Type.String(), Type.Null()]),
  decidedAt: Type.Union([DateTime, Type.Null()]),
  providerRefundId: Type.Union([Type.String(), Type.Null()]),
  failureReason: Type.Union([Type.String(), Type.Null()]),
  sentAt: Type.Union([DateTime, Type.Null()]),
  settledAt: Type.Union([DateTime, Type.Null()]),
  createdAt: DateTime,
  transitions: Type.Array(
    Type.Object({
      from: Type.Union([RefundStatusSchema, Type.Null()]),
      to: RefundStatusSchema,
      actorKind: Type.String(),
      actorId: Type.Union([Type.String(), Type.Null()]),
      reason: Type.String(),
      at: DateTime,
    }),
  ),
});
export type RefundView = Static<typeof Refund>;

export const RefundParams = Type.Object({ refundId: Uuid });

/** What the provider said of a refund when asked, and what that changed here. */
export const RefundCheck = Type.Object({
  refundId: Uuid,
  status: RefundStatusSchema,
  providerStatus: Type.Enum(['pending', 'succeeded', 'failed', 'unknown']),
  outcome: Type.Enum(['applied', 'duplicate', 'ignored', 'rejected', 'flagged', 'none']),
});

export const AdminRefundQuery = Type.Object({
  ...PageQuery.properties,
  status: Type.Optional(RefundStatusSchema),
});

export const ReconciliationQuery = Type.Object({
  from: DateTime,
  to: DateTime,
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Orders per page' }),
  ),
  cursor: PageQuery.properties.cursor,
});

export const Disagreement = Type.Object({
  orderId: Uuid,
  paymentId: Uuid,
  provider: Type.String(),
  kind: Type.Enum([
    'paid-at-provider-not-locally',
    'paid-locally-not-at-provider',
    'amount-differs',
    'refund-differs',
    'query-failed',
  ]),
  detail: Type.String(),
  local: Type.Record(Type.String(), Type.Unknown()),
  remote: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

export const ReconciliationReport = Type.Object({
  from: DateTime,
  to: DateTime,
  checkedOrders: Type.Integer(),
  checkedPayments: Type.Integer(),
  disagreements: Type.Array(Disagreement),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type ReconciliationReportView = Static<typeof ReconciliationReport>;
