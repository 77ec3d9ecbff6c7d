import { type Static, Type } from 'typebox';
import { DateTime, MoneySchema, Uuid } from '../../platform/http/schemas.js';
import { ProviderSchema } from './orders.schemas.js';

export const StartPaymentBody = Type.Object({ provider: ProviderSchema });

export const PaymentActionSchema = Type.Union([
  Type.Object({ kind: Type.Literal('redirect'), url: Type.String() }),
  Type.Object({ kind: Type.Literal('qr'), codeUrl: Type.String() }),
  Type.Object({ kind: Type.Literal('client_secret'), clientSecret: Type.String() }),
  Type.Object({ kind: Type.Literal('sandbox'), payUrl: Type.String() }),
]);

export const Payment = Type.Object({
  id: Uuid,
  orderId: Uuid,
  provider: ProviderSchema,
  amount: MoneySchema,
  status: Type.String(),
  action: PaymentActionSchema,
  createdAt: DateTime,
});
export type PaymentView = Static<typeof Payment>;

export const OrderPaymentParams = Type.Object({ id: Uuid });
export const PaymentParams = Type.Object({ paymentId: Uuid });

export const QueryAnswer = Type.Object({
  paymentId: Uuid,
  providerStatus: Type.String(),
  /** What commerce did with the provider's answer: settled a pending order, or nothing. */
  outcome: Type.String(),
});

export const SandboxPayBody = Type.Object({
  action: Type.Optional(Type.Union([Type.Literal('pay'), Type.Literal('close')])),
  /** Pay another amount than asked (minor units), to see a mismatch caught. */
  amount: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })),
  /** Who pays, as the provider would name them (a made-up account when absent); sealed at rest. */
  payer: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' })),
  /** Send the notification this many more times. */
  duplicates: Type.Optional(Type.Integer({ minimum: 0, maximum: 20 })),
  /** Send it this many seconds later, through a job (it survives a restart). */
  delaySeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
});

export const SandboxPayAnswer = Type.Object({
  paymentId: Uuid,
  /** Status codes of the notify endpoint's answers; empty when the delivery was scheduled. */
  delivered: Type.Array(Type.Integer()),
  scheduled: Type.Boolean(),
});
