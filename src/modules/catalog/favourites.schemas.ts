import { Type } from 'typebox';
import { CourseSummary } from './courses.schemas.js';

/** A course on the caller's wishlist, with when they saved it. */
export const Favourite = Type.Object({
  savedAt: Type.String({ format: 'date-time' }),
  course: CourseSummary,
});
