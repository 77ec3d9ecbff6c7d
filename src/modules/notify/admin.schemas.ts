import { Type } from 'typebox';
import { PageQuery } from '../../platform/http/pagination.js';
import { DateTime, NonEmptyText, Uuid } from '../../platform/http/schemas.js';
import { KindName, LocaleName } from './preferences.schemas.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from './tables.js';

export const PreviewParams = Type.Object({ kind: KindName });
export const PreviewQuery = Type.Object({
  locale: Type.Optional(LocaleName),
});
export const Preview = Type.Object({
  kind: Type.String(),
  locale: Type.String(),
  subject: Type.String(),
  text: Type.String(),
  html: Type.String(),
});

export const DeliveryQuery = Type.Object({
  ...PageQuery.properties,
  status: Type.Optional(Type.Unsafe<DeliveryStatus>(Type.String({ enum: [...DELIVERY_STATUSES] }))),
});

export const DeliveryView = Type.Object({
  id: Uuid,
  notificationId: Uuid,
  recipientId: Type.String(),
  kind: Type.String(),
  channel: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  updatedAt: DateTime,
  log: Type.Array(
    Type.Object({ status: Type.String(), reason: Type.Union([Type.String(), Type.Null()]), at: DateTime }),
  ),
});

export const Segment = Type.Union([
  Type.Object({ type: Type.Literal('all') }),
  Type.Object({
    type: Type.Literal('role'),
    role: Type.Union([Type.Literal('learner'), Type.Literal('instructor'), Type.Literal('admin')]),
  }),
  Type.Object({ type: Type.Literal('course'), courseId: NonEmptyText(100) }),
]);

export const BroadcastInput = Type.Object({
  title: NonEmptyText(200),
  body: NonEmptyText(5000),
  segment: Segment,
});

export const BroadcastView = Type.Object({
  id: Uuid,
  kind: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('done')]),
  reached: Type.Integer({ minimum: 0 }),
  createdAt: DateTime,
  finishedAt: Type.Union([DateTime, Type.Null()]),
});
