import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../platform/db/database.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { ExportPart } from '../../platform/personal-data.js';
import { ProfileUpdatedEvent } from '../identity/index.js';
import { exportPartOf, identityOutbox, keysOf, readSections } from '../../../test/helpers/personal-data.js';
import { type Caller, type CatalogTest, multipart, startCatalog } from './catalog.test-support.js';
import { catalogPersonalData } from './personal-data.queries.js';
import { samplePng } from './sample-files.js';
import type { CatalogTables } from './tables.js';

let t: CatalogTest;
let a: Caller;
let b: Caller;

/** What the test made, to look for in (or miss from) A's part. */
const made = {
  aDraft: '',
  aPublished: '',
  coTaught: '',
  bInvitesA: '',
  bPublished: '',
  aAsset: { id: '', sha256: '', size: 0 },
  bAsset: '',
};

const SECTIONS = [
  'instructorProfile',
  'favourites',
  'coInstructorInvitationsReceived',
  'coInstructorInvitationsSent',
  'instructorMemberships',
  'courses',
  'uploadedAssets',
];

async function upload(as: Caller, courseId: string, filename: string, bytes: Buffer): Promise<string> {
  const { body, headers } = multipart(filename, bytes);
  const response = await t.request('POST', `/api/v1/courses/${courseId}/assets?kind=image`, {
    as,
    body,
    headers,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: string }>().id;
}

async function ok(as: Caller, method: 'POST' | 'PUT', url: string, body?: unknown): Promise<void> {
  const response = await t.request(method, url, { as, body });
  expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
}

/** The profile as identity would publish it (identity is its one writer). */
async function profileFromIdentity(userId: string, displayName: string, headline: string, bio: string) {
  await inTransaction(t.app.platform.database.db, (trx) =>
    enqueue(trx, 'identity', [ProfileUpdatedEvent.create(userId, { userId, displayName, headline, bio })]),
  );
}

beforeAll(async () => {
  t = await startCatalog({}, {}, {}, [identityOutbox()]);
  a = t.instructor;
  b = t.otherInstructor;

  made.aDraft = await t.draftCourse(
    { title: 'A draft of my own', price: { amount: 4900, currency: 'CNY' } },
    a,
  );
  made.aPublished = (await t.publishedCourse({ title: 'A published work' }, a)).id;
  const png = samplePng(16, 16, [200, 40, 40]);
  made.aAsset = {
    id: await upload(a, made.aDraft, 'my-notes.png', png),
    sha256: createHash('sha256').update(png).digest('hex'),
    size: png.length,
  };

  // B's draft that A co-teaches (accepting on a draft lists A at once), with a file B uploaded
  made.coTaught = await t.draftCourse({ title: 'Co-taught with A' }, b);
  await ok(b, 'POST', `/api/v1/courses/${made.coTaught}/invitations`, { instructorId: a.id });
  await ok(a, 'POST', `/api/v1/me/invitations/${made.coTaught}/accept`);
  made.bAsset = await upload(b, made.coTaught, 'b-private-upload.png', samplePng(8, 8, [1, 2, 3]));

  // an invitation A has not answered, and one A sent to B
  made.bInvitesA = await t.draftCourse({ title: 'B private draft' }, b);
  await ok(b, 'POST', `/api/v1/courses/${made.bInvitesA}/invitations`, { instructorId: a.id });
  await ok(a, 'POST', `/api/v1/courses/${made.aDraft}/invitations`, { instructorId: b.id });

  // both save B's course; B also saves A's
  made.bPublished = (await t.publishedCourse({ title: 'B published course' }, b)).id;
  await ok(a, 'PUT', `/api/v1/me/favourites/${made.bPublished}`);
  await ok(b, 'PUT', `/api/v1/me/favourites/${made.bPublished}`);
  await ok(b, 'PUT', `/api/v1/me/favourites/${made.aPublished}`);

  await profileFromIdentity(a.id, 'Ada Teacher', 'Teaches maths', 'I write my own bio');
  await profileFromIdentity(b.id, 'Bob Private-Name', 'B-secret-headline', 'B-private-bio-text');
  await t.kit.settle();
});

afterAll(async () => {
  await t.app.stop();
});

const isoDate = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
const byId = <T extends { id?: string; courseId?: string }>(rows: T[]) =>
  [...rows].sort((x, y) => (x.id ?? x.courseId ?? '').localeCompare(y.id ?? y.courseId ?? ''));

/** Every key of a JSON value, at any depth. */
describe("the catalog's part of a user's personal-data export", () => {
  let part: ExportPart;
  let data: Record<string, unknown>;

  beforeAll(async () => {
    part = await exportPartOf(t.kit, a.id, 'catalog');
    data = part.data;
  });

  it('holds every section, named, with the module and the time it was made', () => {
    expect(part.module).toBe('catalog');
    expect(part.generatedAt).toEqual(isoDate);
    expect(Object.keys(data)).toEqual(SECTIONS);
  });

  it("holds the catalog's copy of the user's own instructor profile", () => {
    expect(data.instructorProfile).toEqual({
      id: a.id,
      displayName: 'Ada Teacher',
      headline: 'Teaches maths',
      bio: 'I write my own bio',
      createdAt: isoDate,
      updatedAt: isoDate,
    });
  });

  it('holds the courses the user saved, and only theirs', () => {
    expect(data.favourites).toEqual([{ courseId: made.bPublished, savedAt: isoDate }]);
  });

  it('holds invitations received and sent, without the other person', () => {
    expect(data.coInstructorInvitationsReceived).toEqual([
      { courseId: made.bInvitesA, status: 'pending', invitedAt: isoDate },
    ]);
    expect(data.coInstructorInvitationsSent).toEqual([
      { courseId: made.aDraft, status: 'pending', invitedAt: isoDate },
    ]);
  });

  it('holds where the user is listed as an instructor, as owner or co-instructor', () => {
    expect(byId(data.instructorMemberships as { courseId: string }[])).toEqual(
      byId([
        { courseId: made.aDraft, role: 'owner', position: 0 },
        { courseId: made.aPublished, role: 'owner', position: 0 },
        { courseId: made.coTaught, role: 'co-instructor', position: 1 },
      ]),
    );
  });

  it('holds the courses the user authors or co-authors, with status, price and dates', () => {
    const courses = data.courses as { id: string }[];
    expect(byId(courses)).toEqual(
      byId([
        {
          id: made.aDraft,
          title: 'A draft of my own',
          role: 'owner',
          status: 'draft',
          price: { amount: 4900, currency: 'CNY' },
          createdAt: isoDate,
          updatedAt: isoDate,
          submittedAt: null,
          publishedAt: null,
          archivedAt: null,
        },
        {
          id: made.aPublished,
          title: 'A published work',
          role: 'owner',
          status: 'published',
          price: { amount: 9900, currency: 'CNY' },
          createdAt: isoDate,
          updatedAt: isoDate,
          submittedAt: isoDate,
          publishedAt: isoDate,
          archivedAt: null,
        },
        {
          id: made.coTaught,
          title: 'Co-taught with A',
          role: 'co-instructor',
          status: 'draft',
          price: { amount: 9900, currency: 'CNY' },
          createdAt: isoDate,
          updatedAt: isoDate,
          submittedAt: null,
          publishedAt: null,
          archivedAt: null,
        },
      ]),
    );
  });

  it('holds the files the user uploaded, not a co-author’s on a shared course', () => {
    expect(data.uploadedAssets).toEqual([
      {
        id: made.aAsset.id,
        courseId: made.aDraft,
        kind: 'image',
        fileName: 'my-notes.png',
        contentType: 'image/png',
        sizeBytes: made.aAsset.size,
        durationSeconds: null,
        pageCount: null,
        uploadedAt: isoDate,
      },
    ]);
  });

  it('holds nothing of the other user', () => {
    const text = JSON.stringify(part);
    for (const foreign of [
      b.id,
      made.bAsset,
      'b-private-upload.png',
      'Bob Private-Name',
      'B-secret-headline',
      'B-private-bio-text',
      // titles of B's courses A has no part in (their ids may appear: A was invited, A saved one)
      'B private draft',
      'B published course',
    ]) {
      expect(text, `found ${foreign}`).not.toContain(foreign);
    }
  });

  it('holds no secret and no internal file location', () => {
    const text = JSON.stringify(part);
    expect(text).not.toContain(made.aAsset.sha256);
    expect(text).not.toContain(`courses/${made.aDraft}/`);
    const suspicious = keysOf(part).filter((k) =>
      /password|token|secret|hash|sha|key|credential|sealed/i.test(k),
    );
    expect(suspicious).toEqual([]);
  });

  it('reads the same rows page by page as in one page (keyset pages skip and repeat nothing)', async () => {
    const db = t.app.platform.database.db.withTables<CatalogTables>();
    const sections = await catalogPersonalData(db, a.id, 1);
    expect(await readSections(sections)).toEqual(data);
  });
});

describe('a user the catalog knows nothing about', () => {
  it('gets a part with empty sections, not a failure', async () => {
    const nobody = await t.kit.caller('learner');
    const part = await exportPartOf(t.kit, nobody.id, 'catalog');
    expect(part).toEqual({
      module: 'catalog',
      generatedAt: isoDate,
      data: {
        instructorProfile: null,
        favourites: [],
        coInstructorInvitationsReceived: [],
        coInstructorInvitationsSent: [],
        instructorMemberships: [],
        courses: [],
        uploadedAssets: [],
      },
    });
  });
});
