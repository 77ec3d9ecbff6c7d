import { Type } from 'typebox';
import { pageOf } from '../../platform/http/pagination.js';
import { CourseSummary } from './courses.schemas.js';

export const InstructorParams = Type.Object({ instructorId: Type.String({ format: 'uuid' }) });

/** The catalog's copy of an instructor's public profile; identity owns and writes it. */
export const InstructorProfile = Type.Object({
  id: Type.String({ format: 'uuid' }),
  displayName: Type.String(),
  headline: Type.String(),
  bio: Type.String(),
});

export const InstructorPage = Type.Object({
  ...InstructorProfile.properties,
  courseCount: Type.Integer(),
  courses: pageOf(CourseSummary),
});
