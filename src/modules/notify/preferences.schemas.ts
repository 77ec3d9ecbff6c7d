import { type Static, Type } from 'typebox';
import { KIND_NAMES, type Kind } from './kinds.js';
import { type Locale, LOCALES } from './templates.js';

const ClockTime = Type.String({
  pattern: '^([01]\\d|2[0-3]):[0-5]\\d$',
  description: 'HH:MM, 24-hour local time',
});
export const KindName = Type.Unsafe<Kind>(Type.String({ enum: [...KIND_NAMES] }));
export const LocaleName = Type.Unsafe<Locale>(Type.String({ enum: [...LOCALES] }));

const ChannelSwitches = Type.Object({
  email: Type.Optional(Type.Boolean()),
  sms: Type.Optional(Type.Boolean()),
});

export const QuietHours = Type.Object({
  start: ClockTime,
  end: ClockTime,
  timeZone: Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: '^[A-Za-z0-9_+\\-/]+$',
    examples: ['Asia/Shanghai'],
  }),
});

export const PreferencesView = Type.Object({
  locale: Type.Union([LocaleName, Type.Null()]),
  phone: Type.Union([Type.String(), Type.Null()]),
  quietHours: Type.Union([QuietHours, Type.Null()]),
  kinds: Type.Array(
    Type.Object({
      kind: KindName,
      transactional: Type.Boolean(),
      channels: Type.Object({ email: Type.Optional(Type.Boolean()), sms: Type.Optional(Type.Boolean()) }),
    }),
  ),
});
export type PreferencesView = Static<typeof PreferencesView>;

export const PreferencesChange = Type.Object({
  locale: Type.Optional(Type.Union([LocaleName, Type.Null()])),
  phone: Type.Optional(
    Type.Union([Type.String({ pattern: '^\\+[1-9]\\d{6,14}$', description: 'E.164' }), Type.Null()]),
  ),
  quietHours: Type.Optional(Type.Union([QuietHours, Type.Null()])),
  kinds: Type.Optional(
    Type.Array(Type.Object({ kind: KindName, channels: ChannelSwitches }), { maxItems: 50 }),
  ),
});
export type PreferencesChange = Static<typeof PreferencesChange>;
