import type { Kysely } from 'kysely';
import { AppError } from '../../platform/errors.js';
import type { NewEvent } from '../../platform/messaging/types.js';
import { type CourseUpdated, CourseUpdatedEvent } from './catalog.events.js';
import { type CourseRow, courseFacts, findCourse } from './courses.queries.js';
import type { CatalogTables, CourseStatus } from './tables.js';
import { can } from './permissions.js';
import { CatalogErrors, NotFound } from './catalog.errors.js';

/** Who is acting, from the verified token. */
export interface Actor {
  userId: string;
  roles: string[];
}

/** Editors of every course (admins): they may change and see any course, whoever owns it. */
export const isAdmin = (actor: Actor | undefined): boolean =>
  actor !== undefined && can(actor.roles, 'courses:edit-any');

export const canEdit = (actor: Actor | undefined, course: Pick<CourseRow, 'owner_id'>): boolean =>
  actor !== undefined && (isAdmin(actor) || course.owner_id === actor.userId);

/** Published and archived courses are public; drafts and courses in review only to their editors. */
export const isPublic = (status: CourseStatus): boolean => status === 'published' || status === 'archived';

export const canView = (actor: Actor | undefined, course: Pick<CourseRow, 'owner_id' | 'status'>): boolean =>
  isPublic(course.status) || canEdit(actor, course);

export const courseNotFound = NotFound.course;

/**
 * Load a course for a change by its owner or an admin, locked until the transaction ends so
 * edits and status changes of one course run one after another. A course the actor cannot even
 * see is "not found", so drafts do not reveal that they exist.
 */
export async function loadEditable(
  trx: Kysely<CatalogTables>,
  courseId: string,
  actor: Actor,
  options: { editableContent?: boolean } = {},
): Promise<CourseRow> {
  const course = await findCourse(trx, courseId, { forUpdate: true });
  if (!course || !canView(actor, course)) throw courseNotFound();
  if (!canEdit(actor, course)) {
    throw AppError.forbidden(
      CatalogErrors.notCourseOwner,
      'Only the course’s instructor or an admin may change it.',
    );
  }
  if (options.editableContent) assertContentEditable(course);
  return course;
}

export function assertContentEditable(course: Pick<CourseRow, 'status'>): void {
  if (course.status === 'in_review') {
    throw AppError.conflict(
      CatalogErrors.courseInReview,
      'The course is being reviewed; withdraw it from review before changing it.',
    );
  }
  if (course.status === 'archived') {
    throw AppError.conflict(CatalogErrors.courseArchived, 'An archived course can no longer be changed.');
  }
}

/** `catalog.course.updated` for the course as it is now in this transaction, with its facts. */
export async function courseUpdatedEvent(
  trx: Kysely<CatalogTables>,
  row: CourseRow,
  changes: string[],
): Promise<NewEvent<CourseUpdated>> {
  const { category, tags } = await courseFacts(trx, row);
  return CourseUpdatedEvent.create(row.id, {
    courseId: row.id,
    ownerId: row.owner_id,
    status: row.status,
    changes,
    priceAmount: row.price_amount,
    currency: row.currency,
    title: row.title,
    categoryId: row.category_id,
    category,
    tags,
  });
}

/**
 * Paid lessons open for the course's editors, and for whoever the entitlement check admits
 * (the learning module, once it exists). Free previews open for everyone.
 */
export interface EntitlementCheck {
  canOpen(userId: string, courseId: string): Promise<boolean>;
}

export async function mayOpenLesson(
  actor: Actor | undefined,
  course: Pick<CourseRow, 'id' | 'owner_id'>,
  lesson: { free_preview: boolean },
  entitlements: EntitlementCheck | undefined,
): Promise<boolean> {
  if (lesson.free_preview || canEdit(actor, course)) return true;
  if (!actor || !entitlements) return false;
  return entitlements.canOpen(actor.userId, course.id);
}
