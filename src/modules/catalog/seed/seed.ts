import { Readable } from 'node:stream';
import type { AssetsService } from '../assets.service.js';
import type { AuthoringService } from '../authoring.service.js';
import type { BrowseService } from '../browse.service.js';
import type { CategoriesService } from '../categories.service.js';
import type { Actor } from '../course.access.js';
import type { CreateLessonInput } from '../courses.schemas.js';
import type { InstructorsService } from '../instructors.service.js';
import type { OutlineService } from '../outline.service.js';
import type { PublishingService } from '../publishing.service.js';
import { sampleEpub, sampleMp4, samplePdf, samplePng } from '../sample-files.js';
import type { AssetKind } from '../tables.js';
import {
  COVER_COLOURS,
  DEMO_CATEGORIES,
  DEMO_COURSES,
  DEMO_INSTRUCTORS,
  DEMO_REVIEWER_ID,
  DEMO_TEXT,
  DEMO_VIDEO_SECONDS,
  type DemoInstructor,
} from './demo.data.js';

export { DEMO_INSTRUCTORS, type DemoInstructor } from './demo.data.js';

/** The services the demo catalog is made through, as an instructor and a reviewer would. */
export interface SeedServices {
  categories: CategoriesService;
  instructors: InstructorsService;
  authoring: AuthoringService;
  outline: OutlineService;
  assets: AssetsService;
  publishing: PublishingService;
  browse: BrowseService;
}

interface SampleFiles {
  video: Buffer;
  handout: Buffer;
  ebook: Buffer;
}

const upload = (
  services: SeedServices,
  owner: Actor,
  courseId: string,
  kind: AssetKind,
  name: string,
  bytes: Buffer,
) => services.assets.upload(owner, courseId, kind, { filename: name, stream: Readable.from([bytes]) });

/** Categories by slug, parents first; the ones that exist already are kept. */
async function ensureCategories(services: SeedServices): Promise<Map<string, string>> {
  const bySlug = new Map((await services.categories.tree()).data.map((c) => [c.slug, c.id]));
  for (const [position, c] of DEMO_CATEGORIES.entries()) {
    if (bySlug.has(c.slug)) continue;
    const parentId = c.parent ? bySlug.get(c.parent) : undefined;
    const created = await services.categories.create({ slug: c.slug, name: c.name, parentId, position });
    bySlug.set(created.slug, created.id);
  }
  return bySlug;
}

/** One demo course, from draft to published, the way an instructor and a reviewer make it. */
async function createDemoCourse(
  services: SeedServices,
  index: number,
  owner: DemoInstructor,
  categories: Map<string, string>,
  files: SampleFiles,
): Promise<void> {
  const [title, subtitle, category, , price, level, language, tags] = DEMO_COURSES[index] ?? [];
  if (title === undefined || subtitle === undefined || category === undefined) return;
  const text = language?.startsWith('zh') ? DEMO_TEXT.zh : DEMO_TEXT.en;
  const author: Actor = { userId: owner.id, roles: ['instructor'] };
  const reviewer: Actor = { userId: DEMO_REVIEWER_ID, roles: ['admin'] };

  const course = await services.authoring.create(author, {
    title,
    subtitle,
    description: text.description(subtitle, owner.displayName),
    categoryId: categories.get(category),
    price: { amount: price ?? 0, currency: 'CNY' },
    level: level ?? 'beginner',
    language: language ?? 'en',
    tags: tags ?? [],
  });
  const colour = COVER_COLOURS[index % COVER_COLOURS.length] ?? [37, 99, 235];
  const cover = await upload(services, author, course.id, 'image', 'cover.png', samplePng(64, 36, colour));
  // each course stores its own copy of the files, so deleting one course's files is safe
  const video = await upload(services, author, course.id, 'video', text.files.video, files.video);
  const handout = await upload(services, author, course.id, 'document', text.files.handout, files.handout);
  await services.authoring.update(author, course.id, { coverAssetId: cover.id });

  const [firstTitle, secondTitle] = text.chapters;
  const first = await services.outline.createChapter(author, course.id, { title: firstTitle });
  const second = await services.outline.createChapter(author, course.id, { title: secondTitle });
  const lesson = (chapterId: string, input: CreateLessonInput) =>
    services.outline.createLesson(author, chapterId, input);
  await lesson(first.id, { title: text.welcome, kind: 'video', freePreview: true, assetId: video.id });
  await lesson(first.id, { title: text.howToStudy, kind: 'article', freePreview: true, body: text.article });
  await lesson(second.id, { title: text.core, kind: 'video', freePreview: false, assetId: video.id });
  await lesson(second.id, { title: text.handout, kind: 'document', freePreview: false, assetId: handout.id });
  if (index % 4 === 0) {
    const ebook = await upload(services, author, course.id, 'ebook', text.files.ebook, files.ebook);
    await lesson(second.id, { title: text.ebook, kind: 'ebook', freePreview: false, assetId: ebook.id });
  }
  await services.publishing.transition(author, course.id, 'submit');
  // approval publishes `catalog.course.published`: commerce and analytics learn of demo courses
  // like any other
  await services.publishing.transition(reviewer, course.id, 'approve');
}

/**
 * A live-looking catalog for a newcomer: categories, instructors and 55 published courses with
 * chapters, lessons, covers and small sample files, all made through the services. Does nothing
 * when any course exists. Ratings and popularity start at zero: they are copies of what learners
 * do, which the catalog learns from other modules, not demo facts to invent here.
 */
export async function seedDemoCatalog(
  services: SeedServices,
  options: { instructors?: DemoInstructor[] | undefined } = {},
): Promise<string[] | undefined> {
  if (await services.browse.hasCourses()) return undefined;
  // given accounts take the first slots, so a demo login owns some courses it can edit
  const given = options.instructors ?? [];
  const instructors: DemoInstructor[] = DEMO_INSTRUCTORS.map((slot, i) => given[i] ?? slot);
  for (const instructor of instructors) await services.instructors.ensureProfile(instructor);
  const categories = await ensureCategories(services);
  const files: SampleFiles = {
    video: sampleMp4(DEMO_VIDEO_SECONDS),
    handout: await samplePdf('Lectern sample handout', [
      'This is a sample document attached to a demo course.',
      'Replace it with your own PDF from the course studio.',
      'Paid lessons are delivered through short-lived signed links.',
    ]),
    ebook: sampleEpub('示例电子书 Sample e-book', [
      '这是演示课程附带的电子书。',
      'This e-book belongs to a demo course.',
    ]),
  };
  // in list order, so the last course is the newest, as "newest first" shows it
  for (const [index, course] of DEMO_COURSES.entries()) {
    const owner = instructors[course[3] % instructors.length] ?? DEMO_INSTRUCTORS[0];
    if (owner) await createDemoCourse(services, index, owner, categories, files);
  }
  return [
    `catalog: ${DEMO_CATEGORIES.length} categories, ${instructors.length} instructors, ${DEMO_COURSES.length} published courses with lessons and sample files`,
    `catalog: browse GET /api/v1/courses, search GET /api/v1/courses?q=编程 or ?q=pyhton`,
  ];
}
