import { type Static, Type } from 'typebox';
import { DateTime, Uuid } from '../../platform/http/schemas.js';

/** Most events one request may carry. */
export const MAX_BATCH = 500;

/**
 * The client's own id of an event, unique per client: a retried batch repeats it, and the event
 * is stored once. Letters, digits and `-_.:`, so any uuid, ulid or counter fits.
 */
const ClientEventId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' });
const Seconds = (max: number) => Type.Integer({ minimum: 0, maximum: max });
/** A lesson's position or watched time: at most 24 h. */
const Position = Seconds(86_400);
/** Time watched since the last play, at most 4 h per event: a longer claim is a stuck client. */
const Watched = Seconds(14_400);

const base = <K extends string>(kind: K) => ({
  id: ClientEventId,
  kind: Type.Literal(kind),
  occurredAt: DateTime,
});

const PageView = Type.Object(
  {
    ...base('page_view'),
    path: Type.String({ minLength: 1, maxLength: 2048, pattern: '^/' }),
    referrer: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: false, description: 'A page of the web or app front end was shown.' },
);
const CourseView = Type.Object(
  { ...base('course_view'), courseId: Uuid },
  { additionalProperties: false, description: 'A course page was shown (the top of the conversion funnel).' },
);
const LessonPlay = Type.Object(
  { ...base('lesson_play'), courseId: Uuid, lessonId: Uuid, positionSeconds: Position },
  { additionalProperties: false, description: 'Playback of a lesson started or resumed.' },
);
const LessonPause = Type.Object(
  {
    ...base('lesson_pause'),
    courseId: Uuid,
    lessonId: Uuid,
    positionSeconds: Position,
    watchedSeconds: Watched,
  },
  { additionalProperties: false, description: 'Playback paused; watchedSeconds counts since the last play.' },
);
const LessonSeek = Type.Object(
  { ...base('lesson_seek'), courseId: Uuid, lessonId: Uuid, fromSeconds: Position, toSeconds: Position },
  { additionalProperties: false, description: 'The learner jumped within a lesson.' },
);
const LessonComplete = Type.Object(
  { ...base('lesson_complete'), courseId: Uuid, lessonId: Uuid, watchedSeconds: Watched },
  {
    additionalProperties: false,
    description: 'Playback reached the end; watchedSeconds counts since the last play.',
  },
);
const Search = Type.Object(
  {
    ...base('search'),
    query: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    resultCount: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  },
  { additionalProperties: false, description: 'A search and how many results it showed.' },
);
const Share = Type.Object(
  {
    ...base('share'),
    courseId: Uuid,
    channel: Type.Union([
      Type.Literal('wechat'),
      Type.Literal('weibo'),
      Type.Literal('qq'),
      Type.Literal('link'),
      Type.Literal('other'),
    ]),
  },
  { additionalProperties: false, description: 'A course was shared.' },
);

export const ClientEvent = Type.Union(
  [PageView, CourseView, LessonPlay, LessonPause, LessonSeek, LessonComplete, Search, Share],
  { description: 'One behaviour event; `kind` says which fields it has.' },
);
export type ClientEvent = Static<typeof ClientEvent>;
export type ClientEventKind = ClientEvent['kind'];

export const EventBatch = Type.Object(
  { events: Type.Array(ClientEvent, { minItems: 1, maxItems: MAX_BATCH }) },
  { additionalProperties: false },
);
export type EventBatch = Static<typeof EventBatch>;

export const BatchReceipt = Type.Object({
  /** Events stored by this request. */
  accepted: Type.Integer(),
  /** Events of the batch stored before (a retry), or repeated within it: not stored again. */
  duplicates: Type.Integer(),
});
export type BatchReceipt = Static<typeof BatchReceipt>;

export const ClientIdHeaders = Type.Object({
  'x-client-id': Type.Optional(
    Type.String({
      minLength: 8,
      maxLength: 64,
      pattern: '^[A-Za-z0-9._:-]+$',
      description: 'The installation or browser id; required when the request carries no access token',
    }),
  ),
});
