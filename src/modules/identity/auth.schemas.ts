import { Type } from 'typebox';

const exampleAccess =
  'eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl';
const exampleRefresh = 'rt_9H2k6Vf0m1Yt0aQ3pLw8cZr5xN4sD7bE2gJ6hK1uT0o';

// PostgreSQL text cannot hold NUL, and no name or note needs control characters: refuse them at
// the edge (400) instead of failing in the database (500)
const CONTROL = '\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f';

/** One line of text with something visible in it. */
export const Line = (
  minLength: number,
  maxLength: number,
  extra: { description?: string; examples?: string[] } = {},
) => Type.String({ minLength, maxLength, pattern: `^(?=[\\s\\S]*\\S)[^\\n\\r\\t${CONTROL}]*$`, ...extra });

/** Free text that may span lines. */
export const Paragraphs = (minLength: number, maxLength: number) =>
  Type.String({ minLength, maxLength, pattern: `^(?=[\\s\\S]*\\S)[^${CONTROL}]*$` });

// surrounding blanks are allowed here and trimmed by the service (normalizeEmail), as people paste them
export const Email = Type.String({
  minLength: 3,
  maxLength: 254,
  pattern: `^\\s*[^\\s@${CONTROL}]+@[^\\s@${CONTROL}]+\\.[^\\s@${CONTROL}]+\\s*$`,
  description: 'An email address',
  examples: ['ada@example.com'],
});
// the policy (length, common list) is applied by the service so its errors carry stable codes
export const Password = Type.String({
  minLength: 1,
  maxLength: 1024,
  examples: ['correct horse battery staple'],
});
export const TotpCode = Type.String({
  pattern: '^[0-9]{6}$',
  description: 'Six digits from the authenticator app',
});
export const RecoveryCode = Type.String({
  minLength: 8,
  maxLength: 64,
  description: 'One of the ten recovery codes',
});
export const OneTimeToken = Type.String({
  minLength: 16,
  maxLength: 256,
  description: 'The token from the mailed link',
});

export const RegisterBody = Type.Object(
  {
    email: Email,
    password: Password,
    displayName: Line(1, 80),
  },
  {
    examples: [
      { email: 'ada@example.com', password: 'correct horse battery staple', displayName: 'Ada Lovelace' },
    ],
  },
);

export const Accepted = Type.Object(
  {
    status: Type.Literal('accepted'),
    message: Type.String(),
  },
  {
    description: 'The same answer whether or not the address has an account',
    examples: [
      { status: 'accepted', message: 'If the address can receive mail from us, a message is on its way.' },
    ],
  },
);

export const EmailBody = Type.Object({ email: Email }, { examples: [{ email: 'ada@example.com' }] });

export const TokenBody = Type.Object(
  { token: OneTimeToken },
  { examples: [{ token: 'kq3V0b2vJp1yQ6y5mR7Zt8nH4cW9sX2aD1fG0hJ3kL4' }] },
);

export const LoginBody = Type.Object(
  { email: Line(1, 254), password: Password },
  { examples: [{ email: 'ada@example.com', password: 'correct horse battery staple' }] },
);

const tokenFields = {
  accessToken: Type.String({ description: 'JWT (RFC 9068), valid for expiresIn seconds' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer(),
  refreshToken: Type.String({ description: 'Opaque; single use: each refresh returns a new one' }),
  scope: Type.Union([Type.String(), Type.Null()]),
};

export const TokenSet = Type.Object(tokenFields, {
  examples: [
    {
      accessToken: exampleAccess,
      tokenType: 'Bearer',
      expiresIn: 300,
      refreshToken: exampleRefresh,
      scope: null,
    },
  ],
});

export const LoginResponse = Type.Union(
  [
    Type.Object({ status: Type.Literal('authenticated'), ...tokenFields }),
    Type.Object({
      status: Type.Literal('mfa_required'),
      mfaToken: Type.String({ description: 'Send to /auth/login/mfa with a code' }),
      expiresIn: Type.Integer(),
      methods: Type.Array(Type.Union([Type.Literal('totp'), Type.Literal('recovery_code')])),
    }),
  ],
  {
    examples: [
      {
        status: 'authenticated',
        accessToken: exampleAccess,
        tokenType: 'Bearer',
        expiresIn: 300,
        refreshToken: exampleRefresh,
        scope: null,
      },
      {
        status: 'mfa_required',
        mfaToken: 'mfa_4Zt0c1X2…',
        expiresIn: 300,
        methods: ['totp', 'recovery_code'],
      },
    ],
  },
);

export const MfaLoginBody = Type.Object(
  {
    mfaToken: Type.String({ minLength: 8, maxLength: 256 }),
    code: Type.Optional(TotpCode),
    recoveryCode: Type.Optional(RecoveryCode),
  },
  { examples: [{ mfaToken: 'mfa_4Zt0c1X2…', code: '123456' }] },
);

export const RefreshBody = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 512 }) },
  { examples: [{ refreshToken: exampleRefresh }] },
);

export const LogoutBody = Type.Object(
  { refreshToken: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })) },
  { examples: [{ refreshToken: exampleRefresh }] },
);

export const ResetConfirmBody = Type.Object(
  { token: OneTimeToken, newPassword: Password },
  {
    examples: [
      { token: 'kq3V0b2vJp1yQ6y5mR7Zt8nH4cW9sX2aD1fG0hJ3kL4', newPassword: 'a brand new passphrase' },
    ],
  },
);

export const TokenInfo = Type.Object(
  {
    subject: Type.String({ description: 'User id, or client id for client_credentials tokens' }),
    kind: Type.Union([Type.Literal('user'), Type.Literal('client')]),
    roles: Type.Array(Type.String()),
    scopes: Type.Array(Type.String()),
    clientId: Type.Union([Type.String(), Type.Null()]),
    sessionId: Type.Union([Type.String(), Type.Null()]),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  {
    examples: [
      {
        subject: '6f1c1a52-2f57-4a8e-9d55-2b8c0f1d9a11',
        kind: 'user',
        roles: ['learner'],
        scopes: [],
        clientId: 'lectern-app',
        sessionId: '0b0e3c4e-8a53-4f7e-bb4c-1d2f3a4b5c6d',
        expiresAt: '2026-11-30T10:05:00.000Z',
      },
    ],
  },
);
