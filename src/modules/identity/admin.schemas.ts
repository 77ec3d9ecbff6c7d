import { type TSchema, Type } from 'typebox';
import { PageQuery } from '../../platform/http/pagination.js';
import { AuditTypes } from './audit.service.js';
import { Line, Paragraphs } from './auth.schemas.js';
import { AdminUser, Application, exampleAdminUser, exampleApplication } from './me.schemas.js';
import { GRANT_TYPES } from './oauth.service.js';
import { ROLES } from './permissions.js';

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));

export const UserListQuery = Type.Object({
  ...PageQuery.properties,
  q: Type.Optional(Line(1, 100, { description: 'Part of the email or display name' })),
  role: Type.Optional(RoleSchema),
  status: Type.Optional(
    Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('closed')]),
  ),
});

/** `pageOf` with an example, for the OpenAPI document. */
const page = <T extends TSchema>(item: T, example: unknown) =>
  Type.Object(
    { data: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) },
    { examples: [{ data: [example], nextCursor: 'WyIyMDI1LTAxLTAyVDEwOjAwOjAwLjAwMFoiLCIuLi4iXQ' }] },
  );

export const UserPage = page(AdminUser, exampleAdminUser);

export const DisableBody = Type.Object(
  { reason: Type.Optional(Paragraphs(1, 500)) },
  { examples: [{ reason: 'Chargeback fraud, ticket #4411' }] },
);

export const CloseBody = Type.Object(
  { reason: Type.Optional(Paragraphs(1, 500)) },
  { examples: [{ reason: 'Owner asked by mail, ticket #5120' }] },
);

export const RolesBody = Type.Object(
  { roles: Type.Array(RoleSchema, { maxItems: ROLES.length, uniqueItems: true }) },
  { examples: [{ roles: ['learner', 'instructor'] }] },
);

export const ApplicationsQuery = Type.Object({
  ...PageQuery.properties,
  status: Type.Optional(
    Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('rejected')]),
  ),
});

export const ApplicationPage = page(Application, exampleApplication);

export const DecisionBody = Type.Object(
  { note: Type.Optional(Paragraphs(1, 1000)) },
  { examples: [{ note: 'Welcome aboard.' }] },
);

export const AuditQuery = Type.Object({
  ...PageQuery.properties,
  userId: Type.Optional(Type.String({ format: 'uuid' })),
  type: Type.Optional(Type.Union(AuditTypes.map((t) => Type.Literal(t)))),
});

export const AuditEvent = Type.Object({
  id: Type.String({ format: 'uuid' }),
  occurredAt: Type.String({ format: 'date-time' }),
  type: Type.String(),
  userId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  actorId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
});

export const AuditPage = Type.Object(
  { data: Type.Array(AuditEvent), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  {
    examples: [
      {
        data: [
          {
            id: '9a0e6d4f-2b3c-4d5e-8f90-1a2b3c4d5e6f',
            occurredAt: '2025-01-02T10:00:00.000Z',
            type: 'login.failed',
            userId: '6f1c1a52-2f57-4a8e-9d55-2b8c0f1d9a11',
            actorId: null,
            ip: '203.0.113.7',
            userAgent: 'Mozilla/5.0',
            details: { reason: 'wrong_password' },
          },
        ],
        nextCursor: null,
      },
    ],
  },
);

export const RotateBody = Type.Object(
  {
    prepublishSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 86400,
        description: 'Publish the new key this long before it signs',
      }),
    ),
  },
  { examples: [{ prepublishSeconds: 60 }] },
);

export const RotateResult = Type.Object(
  { kid: Type.String(), activatesAt: Type.String({ format: 'date-time' }) },
  { examples: [{ kid: 'hJ3oW1x…', activatesAt: '2025-01-02T10:01:00.000Z' }] },
);

const GrantTypeSchema = Type.Union(GRANT_TYPES.map((g) => Type.Literal(g)));

export const CreateClientBody = Type.Object(
  {
    name: Line(1, 120),
    grantTypes: Type.Array(GrantTypeSchema, { minItems: 1, maxItems: GRANT_TYPES.length, uniqueItems: true }),
    scopes: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50, uniqueItems: true }),
    confidential: Type.Boolean({ description: 'Has a secret (servers); public clients (apps) do not' }),
    firstParty: Type.Optional(Type.Boolean({ default: false })),
  },
  {
    examples: [
      {
        name: 'Partner analytics',
        grantTypes: ['client_credentials'],
        scopes: ['catalog:read'],
        confidential: true,
      },
    ],
  },
);

const clientFields = {
  clientId: Type.String(),
  name: Type.String(),
  confidential: Type.Boolean(),
  firstParty: Type.Boolean(),
  grantTypes: Type.Array(Type.String()),
  scopes: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  disabledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
};
const exampleClient = {
  clientId: 'cl_2x9Qm0aB7kPz',
  name: 'Partner analytics',
  confidential: true,
  firstParty: false,
  grantTypes: ['client_credentials'],
  scopes: ['catalog:read'],
  createdAt: '2025-01-02T10:00:00.000Z',
  disabledAt: null,
};

export const Client = Type.Object(clientFields, { examples: [exampleClient] });

export const ClientCreated = Type.Object(
  {
    ...clientFields,
    clientSecret: Type.Union([Type.String({ description: 'Shown this once' }), Type.Null()]),
  },
  { examples: [{ ...exampleClient, clientSecret: 'cs_Vb1…' }] },
);

export const ClientIdParams = Type.Object({
  clientId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});

export const ClientList = Type.Object(
  { data: Type.Array(Client) },
  { examples: [{ data: [exampleClient] }] },
);
