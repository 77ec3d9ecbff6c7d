import { Type } from 'typebox';

export const UserSummary = Type.Object({
  id: Type.String(),
  email: Type.String(),
  displayName: Type.String(),
  roles: Type.Array(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('closed')]),
  emailVerified: Type.Boolean(),
});

export const UserIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const EmailQuery = Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }) });
