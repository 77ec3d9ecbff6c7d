/** Events the catalog publishes; every `data` shape below is version 1. */

export interface CategoryCreated {
  id: string;
  slug: string;
  name: string;
  parentId: string | null;
}

export interface CourseSubmitted {
  courseId: string;
  ownerId: string;
  title: string;
}

export interface CourseRejected {
  courseId: string;
  ownerId: string;
  title: string;
  reason: string;
}

export interface CoursePublished {
  courseId: string;
  ownerId: string;
  instructorIds: string[];
  title: string;
  priceAmount: number;
  currency: string;
  publishedAt: string;
}

export interface CourseUpdated {
  courseId: string;
  ownerId: string;
  status: 'draft' | 'in_review' | 'published' | 'archived';
  /** Which parts changed: field names (`title`, `priceAmount`, …), `tags`, `outline`, `cover`. */
  changes: string[];
  priceAmount: number;
  currency: string;
}

export interface CourseArchived {
  courseId: string;
  ownerId: string;
  archivedAt: string;
}

export interface LessonAdded {
  courseId: string;
  lessonId: string;
  chapterId: string;
  title: string;
  kind: 'video' | 'document' | 'slides' | 'ebook' | 'article';
  freePreview: boolean;
  /** Status of the course when the lesson was added; notify only tells learners about published ones. */
  courseStatus: 'draft' | 'in_review' | 'published' | 'archived';
}

export const CatalogEvents = {
  categoryCreated: 'catalog.category.created',
  courseSubmitted: 'catalog.course.submitted',
  courseRejected: 'catalog.course.rejected',
  coursePublished: 'catalog.course.published',
  courseUpdated: 'catalog.course.updated',
  courseArchived: 'catalog.course.archived',
  lessonAdded: 'catalog.lesson.added',
} as const;

/** Events from other modules the catalog listens to. */
export const ConsumedEvents = {
  /** data: `{ userId, displayName }` — creates or renames the catalog's instructor copy. */
  instructorApproved: 'identity.instructor.approved',
  /** data: `{ userId, displayName, headline, bio }` — updates the copy of someone who already teaches here. */
  profileUpdated: 'identity.user.profile_updated',
} as const;
