import { Type } from 'typebox';
import { Email, Line, Paragraphs, Password, RecoveryCode, TotpCode } from './auth.schemas.js';

const userFields = {
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  displayName: Type.String(),
  emailVerified: Type.Boolean(),
  roles: Type.Array(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('closed')]),
  mfaEnabled: Type.Boolean(),
  headline: Type.Union([Type.String(), Type.Null()]),
  bio: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
};

const exampleUser = {
  id: '6f1c1a52-2f57-4a8e-9d55-2b8c0f1d9a11',
  email: 'ada@example.com',
  displayName: 'Ada Lovelace',
  emailVerified: true,
  roles: ['learner'],
  status: 'active',
  mfaEnabled: false,
  headline: null,
  bio: null,
  createdAt: '2025-01-01T08:00:00.000Z',
};

export const User = Type.Object(userFields, { examples: [exampleUser] });

export const exampleAdminUser = { ...exampleUser, disabledAt: null, disabledReason: null };

export const AdminUser = Type.Object(
  {
    ...userFields,
    disabledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    disabledReason: Type.Union([Type.String(), Type.Null()]),
  },
  { examples: [exampleAdminUser] },
);

export const UpdateMeBody = Type.Object(
  { displayName: Type.Optional(Line(1, 80)) },
  { examples: [{ displayName: 'Ada King' }] },
);

export const ChangePasswordBody = Type.Object(
  { currentPassword: Password, newPassword: Password },
  { examples: [{ currentPassword: 'correct horse battery staple', newPassword: 'a brand new passphrase' }] },
);

export const ChangePasswordResult = Type.Object(
  { otherSessionsRevoked: Type.Integer({ minimum: 0 }) },
  { examples: [{ otherSessionsRevoked: 2 }] },
);

export const MfaStatus = Type.Object(
  {
    totpEnabled: Type.Boolean(),
    enrolmentPending: Type.Boolean(),
    recoveryCodesRemaining: Type.Integer({ minimum: 0 }),
  },
  { examples: [{ totpEnabled: true, enrolmentPending: false, recoveryCodesRemaining: 9 }] },
);

export const PasswordBody = Type.Object(
  { password: Password },
  { examples: [{ password: 'correct horse battery staple' }] },
);

export const Enrolment = Type.Object(
  {
    secret: Type.String({ description: 'Base32 secret, for typing in by hand' }),
    otpauthUri: Type.String({ description: 'otpauth:// URI to show as a QR code' }),
  },
  {
    examples: [
      {
        secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
        otpauthUri:
          'otpauth://totp/Lectern:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Lectern',
      },
    ],
  },
);

export const CodeBody = Type.Object({ code: TotpCode }, { examples: [{ code: '123456' }] });

export const ReauthBody = Type.Object(
  {
    password: Type.Optional(Password),
    code: Type.Optional(TotpCode),
    recoveryCode: Type.Optional(RecoveryCode),
  },
  {
    description: 'One of: password, code, recoveryCode',
    examples: [{ password: 'correct horse battery staple' }, { code: '123456' }],
  },
);

export const ChangeEmailBody = Type.Object(
  { newEmail: Email, password: Password },
  { examples: [{ newEmail: 'ada@new.example.com', password: 'correct horse battery staple' }] },
);

export const CloseAccountBody = Type.Object(
  {
    password: Password,
    code: Type.Optional(TotpCode),
    recoveryCode: Type.Optional(RecoveryCode),
  },
  {
    description: 'The password, and while two-factor is on a current code or a recovery code as well',
    examples: [
      { password: 'correct horse battery staple' },
      { password: 'correct horse battery staple', code: '123456' },
    ],
  },
);

export const RecoveryCodes = Type.Object(
  { recoveryCodes: Type.Array(Type.String(), { description: 'Shown once; each works once' }) },
  { examples: [{ recoveryCodes: ['abcd-efgh-jkmn-pqrs', '…'] }] },
);

export const ApplicationBody = Type.Object(
  { motivation: Paragraphs(20, 2000) },
  {
    examples: [{ motivation: 'I have taught data engineering for ten years and want to publish a course.' }],
  },
);

export const exampleApplication = {
  id: '0b9d8f3e-5c1a-4f0e-8a77-3e2b1c4d5f60',
  userId: '6f1c1a52-2f57-4a8e-9d55-2b8c0f1d9a11',
  motivation: 'I have taught data engineering for ten years and want to publish a course.',
  status: 'pending',
  decisionNote: null,
  decidedAt: null,
  createdAt: '2025-01-02T09:30:00.000Z',
};

export const Application = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    userId: Type.String({ format: 'uuid' }),
    motivation: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('rejected')]),
    decisionNote: Type.Union([Type.String(), Type.Null()]),
    decidedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { examples: [exampleApplication] },
);

export const InstructorProfileBody = Type.Object(
  {
    headline: Line(1, 120),
    bio: Paragraphs(1, 4000),
  },
  { examples: [{ headline: 'Data engineer, teacher', bio: 'Ten years of pipelines, now on video.' }] },
);

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
