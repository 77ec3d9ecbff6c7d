import type { Kysely } from 'kysely';
import { type ExportSections, pagedSection } from '../../platform/personal-data.js';
import { findInstructor } from './instructors.queries.js';
import type { CatalogTables } from './tables.js';

type Db = Kysely<CatalogTables>;

/** One keyset page of a section: the user's rows strictly after `after` (none at first), in order. */
type SectionPage<Row, Cursor> = (
  db: Db,
  userId: string,
  after: Cursor | undefined,
  size: number,
) => Promise<Row[]>;

/**
 * What the catalog holds about one user as a person, for their copy of their personal data
 * (PIPL Art. 45): their own rows only, read with the handle given (the inbox transaction).
 *
 * Left out on purpose: other people's ids and texts (who invited them, whom they invited, a
 * reviewer's note on their course, a co-author's uploads), storage keys and content hashes of
 * files (internal locations, not facts about the person), and the content of courses (outline,
 * lessons, descriptions): that is the work itself, edited by every co-author alike, not data
 * about one of them, and its authors read it in the studio.
 */
export async function catalogPersonalData(
  db: Db,
  userId: string,
  /** Rows per query of a long section; small in a test that walks page boundaries. */
  pageSize = 1000,
): Promise<ExportSections> {
  const paged = <Row extends Cursor, Item, Cursor>(
    page: SectionPage<Row, Cursor>,
    toItem: (row: Row) => Item,
  ) => pagedSection<Row, Item, Cursor>((after, size) => page(db, userId, after, size), toItem, pageSize);
  const roleOf = (row: { owner_id: string }) => (row.owner_id === userId ? 'owner' : 'co-instructor');
  return {
    instructorProfile: await instructorProfile(db, userId),
    favourites: paged(favouritesPage, (row) => ({ courseId: row.course_id, savedAt: row.created_at })),
    coInstructorInvitationsReceived: paged(invitationsPage('instructor_id'), toInvitation),
    coInstructorInvitationsSent: paged(invitationsPage('invited_by'), toInvitation),
    instructorMemberships: paged(membershipsPage, (row) => ({
      courseId: row.course_id,
      role: roleOf(row),
      position: row.position,
    })),
    courses: paged(coursesPage, (row) => ({
      id: row.id,
      title: row.title,
      role: roleOf(row),
      status: row.status,
      price: { amount: row.price_amount, currency: row.currency },
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      submittedAt: row.submitted_at,
      publishedAt: row.published_at,
      archivedAt: row.archived_at,
    })),
    uploadedAssets: paged(assetsPage, (row) => ({
      id: row.id,
      courseId: row.course_id,
      kind: row.kind,
      fileName: row.original_name,
      contentType: row.content_type,
      sizeBytes: row.size_bytes,
      durationSeconds: row.duration_seconds,
      pageCount: row.page_count,
      uploadedAt: row.created_at,
    })),
  };
}

/** The catalog's copy of the name and profile identity wrote for them; null for a learner. */
async function instructorProfile(db: Db, userId: string) {
  const row = await findInstructor(db, userId);
  if (!row) return null;
  return {
    id: row.id,
    displayName: row.display_name,
    headline: row.headline,
    bio: row.bio,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

// Each page is ordered by a key unique among the user's rows and resumes strictly after the
// last row of the page before, so no row is read twice or skipped between pages.

function favouritesPage(
  db: Db,
  userId: string,
  after: { created_at: Date; course_id: string } | undefined,
  size: number,
) {
  return db
    .selectFrom('catalog.favourites')
    .select(['course_id', 'created_at'])
    .where('user_id', '=', userId)
    .where((eb) =>
      after
        ? eb(eb.refTuple('created_at', 'course_id'), '>', eb.tuple(after.created_at, after.course_id))
        : eb.lit(true),
    )
    .orderBy('created_at')
    .orderBy('course_id')
    .limit(size)
    .execute();
}

/**
 * Invitations to co-teach that the user received (`instructor_id`) or sent (`invited_by`) and
 * that are still open (pending, or accepted and waiting for a review). The other person's id is
 * read only to page by the table's key, never written to the part.
 */
const invitationsPage =
  (side: 'instructor_id' | 'invited_by') =>
  (
    db: Db,
    userId: string,
    after: { created_at: Date; course_id: string; instructor_id: string } | undefined,
    size: number,
  ) =>
    db
      .selectFrom('catalog.instructor_invitations')
      .select(['course_id', 'instructor_id', 'status', 'created_at'])
      .where(side, '=', userId)
      .where((eb) =>
        after
          ? eb(
              eb.refTuple('created_at', 'course_id', 'instructor_id'),
              '>',
              eb.tuple(after.created_at, after.course_id, after.instructor_id),
            )
          : eb.lit(true),
      )
      .orderBy('created_at')
      .orderBy('course_id')
      .orderBy('instructor_id')
      .limit(size)
      .execute();

const toInvitation = (row: { course_id: string; status: string; created_at: Date }) => ({
  courseId: row.course_id,
  status: row.status,
  invitedAt: row.created_at,
});

/** The courses whose page names the user as an instructor, and where. */
function membershipsPage(db: Db, userId: string, after: { course_id: string } | undefined, size: number) {
  return db
    .selectFrom('catalog.course_instructors as ci')
    .innerJoin('catalog.courses as c', 'c.id', 'ci.course_id')
    .select(['ci.course_id', 'ci.position', 'c.owner_id'])
    .where('ci.instructor_id', '=', userId)
    .where((eb) => (after ? eb('ci.course_id', '>', after.course_id) : eb.lit(true)))
    .orderBy('ci.course_id')
    .limit(size)
    .execute();
}

/**
 * The user's works: the courses they own or are listed on as a co-instructor. Driven from their
 * own rows (both lookups are indexed), so a page never scans the whole course table.
 */
function coursesPage(db: Db, userId: string, after: { id: string } | undefined, size: number) {
  let listed = db
    .selectFrom('catalog.course_instructors')
    .select('course_id')
    .where('instructor_id', '=', userId);
  let owned = db.selectFrom('catalog.courses').select('id as course_id').where('owner_id', '=', userId);
  if (after) {
    listed = listed.where('course_id', '>', after.id);
    owned = owned.where('id', '>', after.id);
  }
  return db
    .selectFrom(listed.union(owned).as('mine'))
    .innerJoin('catalog.courses as c', 'c.id', 'mine.course_id')
    .select([
      'c.id',
      'c.owner_id',
      'c.title',
      'c.status',
      'c.price_amount',
      'c.currency',
      'c.created_at',
      'c.updated_at',
      'c.submitted_at',
      'c.published_at',
      'c.archived_at',
    ])
    .orderBy('c.id')
    .limit(size)
    .execute();
}

/** Files the user uploaded (not those a co-author uploaded to the same course). */
function assetsPage(
  db: Db,
  userId: string,
  after: { created_at: Date; id: string } | undefined,
  size: number,
) {
  return db
    .selectFrom('catalog.assets')
    .select([
      'id',
      'course_id',
      'kind',
      'content_type',
      'original_name',
      'size_bytes',
      'duration_seconds',
      'page_count',
      'created_at',
    ])
    .where('uploaded_by', '=', userId)
    .where((eb) =>
      after ? eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(after.created_at, after.id)) : eb.lit(true),
    )
    .orderBy('created_at')
    .orderBy('id')
    .limit(size)
    .execute();
}
