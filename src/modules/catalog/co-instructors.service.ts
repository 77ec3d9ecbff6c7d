import type { Kysely } from 'kysely';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { NewEvent } from '../../platform/messaging/types.js';
import type { CatalogCache } from './catalog.cache.js';
import { CatalogErrors, NotFound } from './catalog.errors.js';
import {
  CourseInstructorAddedEvent,
  CourseInstructorRemovedEvent,
  InvitationAcceptedEvent,
  InvitationClosedEvent,
  InvitationSentEvent,
} from './catalog.events.js';
import {
  addCourseInstructor,
  deleteInvitation,
  findInvitation,
  insertInvitation,
  invitationsOfCourse,
  invitationsOfInstructor,
  isCourseInstructor,
  removeCourseInstructor,
  setInvitationStatus,
} from './co-instructors.queries.js';
import {
  type Actor,
  assertContentEditable,
  canEdit,
  courseUpdatedEvent,
  isPublic,
  loadEditable,
} from './course.access.js';
import { type CourseRow, findCourse, knownInstructorIds, refreshSearchDocument } from './courses.queries.js';
import { can } from './permissions.js';
import type { CatalogTables, InvitationStatus } from './tables.js';

type Db = Kysely<CatalogTables>;

export interface InvitationView {
  courseId: string;
  courseTitle: string;
  invitedBy: string;
  status: InvitationStatus;
  createdAt: string;
}

export interface CourseInvitationView {
  instructorId: string;
  displayName: string;
  invitedBy: string;
  status: InvitationStatus;
  createdAt: string;
}

/**
 * Who teaches a course besides its owner. Nobody is put on a course without saying yes: the
 * owner (or an admin) invites, the invitee accepts or declines, the owner may withdraw. On a
 * draft an acceptance takes effect at once; once a course has left draft, an accepted
 * invitation waits for a reviewer, and the public course keeps its instructors until then.
 * Leaving, or being removed, takes effect at once: it never puts a name where it was not.
 */
export function createCoInstructorsService(deps: { db: Db; cache: CatalogCache }) {
  const { db, cache } = deps;

  /** The course locked for the change, if the caller may know it exists. */
  async function lockedCourse(trx: Db, courseId: string): Promise<CourseRow> {
    const course = await findCourse(trx, courseId, { forUpdate: true });
    if (!course) throw NotFound.course();
    return course;
  }

  /** The name goes on the course: the list, its search document, and the announcements. */
  async function join(trx: Db, course: CourseRow, instructorId: string): Promise<NewEvent[]> {
    await addCourseInstructor(trx, course.id, instructorId);
    await deleteInvitation(trx, course.id, instructorId);
    await refreshSearchDocument(trx, course.id);
    return [
      CourseInstructorAddedEvent.create(course.id, {
        courseId: course.id,
        instructorId,
        courseStatus: course.status,
      }),
      await courseUpdatedEvent(trx, course, ['instructors']),
    ];
  }

  const invitation = async (trx: Db, courseId: string, instructorId: string) => {
    const found = await findInvitation(trx, courseId, instructorId);
    if (!found) throw NotFound.invitation();
    return found;
  };

  /**
   * Invite each instructor not yet on the course and not yet invited; used by the invitation
   * route and by course create/edit, inside the caller's transaction (`course` is locked).
   */
  async function inviteIn(
    trx: Db,
    actor: Actor,
    course: CourseRow,
    instructorIds: string[],
    field: string,
  ): Promise<NewEvent[]> {
    const ids = [...new Set(instructorIds)].filter((id) => id !== course.owner_id);
    const known = await knownInstructorIds(trx, ids);
    const missing = ids.filter((id) => !known.includes(id));
    if (missing.length > 0) {
      throw AppError.validation(
        CatalogErrors.unknownInstructor,
        'Only instructors with a profile can be invited.',
        [{ field, message: `unknown: ${missing.join(', ')}` }],
      );
    }
    const events: NewEvent[] = [];
    for (const instructorId of ids) {
      if (await isCourseInstructor(trx, course.id, instructorId)) continue;
      if (
        !(await insertInvitation(trx, {
          course_id: course.id,
          instructor_id: instructorId,
          invited_by: actor.userId,
        }))
      )
        continue;
      events.push(
        InvitationSentEvent.create(course.id, {
          courseId: course.id,
          instructorId,
          actorId: actor.userId,
          courseTitle: course.title,
        }),
      );
    }
    return events;
  }

  return {
    inviteIn,

    async invite(actor: Actor, courseId: string, instructorId: string): Promise<CourseInvitationView[]> {
      return inTransaction(db, async (trx) => {
        const course = await loadEditable(trx, courseId, actor, { editableContent: true });
        if (instructorId === course.owner_id || (await isCourseInstructor(trx, courseId, instructorId))) {
          throw AppError.conflict(
            CatalogErrors.alreadyInstructor,
            'This instructor already teaches the course.',
          );
        }
        const events = await inviteIn(trx, actor, course, [instructorId], '/body/instructorId');
        await enqueue(trx, 'catalog', events);
        return courseInvitations(trx, courseId);
      });
    },

    /** The owner (or an admin) takes back an invitation not yet in effect. */
    async withdraw(actor: Actor, courseId: string, instructorId: string): Promise<void> {
      await inTransaction(db, async (trx) => {
        await loadEditable(trx, courseId, actor);
        await invitation(trx, courseId, instructorId);
        await deleteInvitation(trx, courseId, instructorId);
        await enqueue(trx, 'catalog', [
          InvitationClosedEvent.create(courseId, {
            courseId,
            instructorId,
            actorId: actor.userId,
            outcome: 'withdrawn',
          }),
        ]);
      });
    },

    /** The course's invitations, for its editors and for reviewers. */
    async listForCourse(actor: Actor, courseId: string): Promise<CourseInvitationView[]> {
      const course = await findCourse(db, courseId);
      const reviewer = can(actor.roles, 'courses:review');
      if (!course || !(reviewer || canEdit(actor, course))) throw NotFound.course();
      return courseInvitations(db, courseId);
    },

    async mine(actor: Actor): Promise<InvitationView[]> {
      const rows = await invitationsOfInstructor(db, actor.userId);
      return rows.map((r) => ({
        courseId: r.course_id,
        courseTitle: r.title,
        invitedBy: r.invited_by,
        status: r.status,
        createdAt: r.created_at.toISOString(),
      }));
    },

    async accept(actor: Actor, courseId: string): Promise<InvitationView> {
      const { view, changed } = await inTransaction(db, async (trx) => {
        const course = await lockedCourse(trx, courseId);
        const found = await invitation(trx, courseId, actor.userId);
        if (course.status === 'archived') assertContentEditable(course);
        const awaitingReview = course.status !== 'draft';
        const events: NewEvent[] = [
          InvitationAcceptedEvent.create(courseId, {
            courseId,
            instructorId: actor.userId,
            actorId: actor.userId,
            awaitingReview,
          }),
        ];
        if (awaitingReview) await setInvitationStatus(trx, courseId, actor.userId, 'accepted');
        else events.push(...(await join(trx, course, actor.userId)));
        await enqueue(trx, 'catalog', events);
        return {
          changed: !awaitingReview,
          view: {
            courseId,
            courseTitle: course.title,
            invitedBy: found.invited_by,
            status: 'accepted' as const,
            createdAt: found.created_at.toISOString(),
          },
        };
      });
      if (changed) await cache.invalidateCourse(courseId);
      return view;
    },

    async decline(actor: Actor, courseId: string): Promise<void> {
      await inTransaction(db, async (trx) => {
        await lockedCourse(trx, courseId);
        await invitation(trx, courseId, actor.userId);
        await deleteInvitation(trx, courseId, actor.userId);
        await enqueue(trx, 'catalog', [
          InvitationClosedEvent.create(courseId, {
            courseId,
            instructorId: actor.userId,
            actorId: actor.userId,
            outcome: 'declined',
          }),
        ]);
      });
    },

    /** A reviewer decides on an accepted invitation of a course that has left draft. */
    async review(actor: Actor, courseId: string, instructorId: string, approve: boolean): Promise<void> {
      if (!can(actor.roles, 'courses:review')) {
        throw AppError.forbidden(CatalogErrors.adminRequired, 'Only an admin reviews instructor changes.');
      }
      await inTransaction(db, async (trx) => {
        const course = await lockedCourse(trx, courseId);
        const found = await invitation(trx, courseId, instructorId);
        if (found.status !== 'accepted') {
          throw AppError.conflict(
            CatalogErrors.invitationNotAccepted,
            'The instructor has not accepted yet.',
          );
        }
        if (approve && course.status === 'archived') assertContentEditable(course);
        const events = approve
          ? await join(trx, course, instructorId)
          : (await deleteInvitation(trx, courseId, instructorId),
            [
              InvitationClosedEvent.create(courseId, {
                courseId,
                instructorId,
                actorId: actor.userId,
                outcome: 'rejected',
              }),
            ]);
        await enqueue(trx, 'catalog', events);
      });
      if (approve) await cache.invalidateCourse(courseId);
    },

    /** A co-instructor leaves, or an editor removes one; the owner cannot leave their course. */
    async remove(actor: Actor, courseId: string, instructorId: string): Promise<void> {
      await inTransaction(db, async (trx) => {
        const course = await lockedCourse(trx, courseId);
        const self = actor.userId === instructorId;
        const onCourse = await isCourseInstructor(trx, courseId, instructorId);
        if (!canEdit(actor, course) && !(self && onCourse)) {
          // someone else's draft stays unknown; on a public course the caller is simply not its editor
          if (!isPublic(course.status)) throw NotFound.course();
          throw AppError.forbidden(
            CatalogErrors.notCourseOwner,
            'Only the course’s instructor or an admin may change it.',
          );
        }
        if (instructorId === course.owner_id) {
          throw AppError.conflict(CatalogErrors.ownerCannotLeave, 'The owner cannot leave their own course.');
        }
        if (!onCourse)
          throw AppError.notFound(
            CatalogErrors.notCourseInstructor,
            'This instructor does not teach the course.',
          );
        await removeCourseInstructor(trx, courseId, instructorId);
        await refreshSearchDocument(trx, courseId);
        await enqueue(trx, 'catalog', [
          CourseInstructorRemovedEvent.create(courseId, {
            courseId,
            instructorId,
            actorId: actor.userId,
            left: self,
          }),
          await courseUpdatedEvent(trx, course, ['instructors']),
        ]);
      });
      await cache.invalidateCourse(courseId);
    },
  };
}

async function courseInvitations(db: Db, courseId: string): Promise<CourseInvitationView[]> {
  const rows = await invitationsOfCourse(db, courseId);
  return rows.map((r) => ({
    instructorId: r.instructor_id,
    displayName: r.display_name,
    invitedBy: r.invited_by,
    status: r.status,
    createdAt: r.created_at.toISOString(),
  }));
}

export type CoInstructorsService = ReturnType<typeof createCoInstructorsService>;
