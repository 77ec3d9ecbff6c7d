import { type Static, Type } from 'typebox';

const Uuid = Type.String({ format: 'uuid' });
const DateTime = Type.String({ format: 'date-time' });
const InvitationStatus = Type.Enum(['pending', 'accepted'], {
  description: '`accepted` waits for a reviewer: the course had left draft when the invitee said yes',
});

export const InviteBody = Type.Object({ instructorId: Uuid });
export type InviteInput = Static<typeof InviteBody>;

export const CourseInstructorParams = Type.Object({ courseId: Uuid, instructorId: Uuid });

/** An invitation as the invitee sees it. */
export const MyInvitation = Type.Object({
  courseId: Uuid,
  courseTitle: Type.String(),
  invitedBy: Uuid,
  status: InvitationStatus,
  createdAt: DateTime,
});

/** An invitation as the course's editors and reviewers see it. */
export const CourseInvitation = Type.Object({
  instructorId: Uuid,
  displayName: Type.String(),
  invitedBy: Uuid,
  status: InvitationStatus,
  createdAt: DateTime,
});

export const MyInvitationList = Type.Object({ data: Type.Array(MyInvitation) });
export const CourseInvitationList = Type.Object({ data: Type.Array(CourseInvitation) });
