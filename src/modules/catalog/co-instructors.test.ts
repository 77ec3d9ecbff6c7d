import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Caller, type CatalogTest, outboxEvents, startCatalog } from './catalog.test-support.js';

let t: CatalogTest;
let third: Caller;

beforeAll(async () => {
  t = await startCatalog();
  third = { id: crypto.randomUUID(), token: '' };
  third.token = await t.app.tokens.user(third.id, ['instructor']);
  // an instructor gets a catalog profile with their first course
  for (const who of [t.otherInstructor, third]) await t.draftCourse({ title: 'Profile maker' }, who);
});

afterAll(async () => {
  await t.app.stop();
});

const instructorsOf = async (courseId: string, as?: Caller) =>
  (await t.request('GET', `/api/v1/courses/${courseId}`, { as }))
    .json<{ instructors: { id: string }[] }>()
    .instructors.map((i) => i.id);
const myInvitations = async (as: Caller) =>
  (await t.request('GET', '/api/v1/me/invitations', { as })).json<{
    data: { courseId: string; status: string }[];
  }>().data;
const eventsFor = async (type: string, courseId: string) =>
  (await outboxEvents(t.app, type)).filter((e) => e.aggregate_id === courseId).map((e) => e.data);

describe('co-instructors join by consent', () => {
  it('turns an owner’s edit of the instructor list into an invitation, not a listing', async () => {
    const { id } = await t.publishedCourse({ title: 'Owner adds a victim' });
    const patched = await t.request('PATCH', `/api/v1/courses/${id}`, {
      as: t.instructor,
      body: { instructorIds: [t.otherInstructor.id] },
    });
    expect(patched.statusCode).toBe(200);
    expect(await instructorsOf(id)).toEqual([t.instructor.id]);
    expect(await t.api.getCourseForSale(id)).toMatchObject({ instructorIds: [t.instructor.id] });
    expect(await myInvitations(t.otherInstructor)).toContainEqual(
      expect.objectContaining({ courseId: id, status: 'pending' }),
    );
    expect(await eventsFor('catalog.invitation.sent', id)).toEqual([
      expect.objectContaining({ courseId: id, instructorId: t.otherInstructor.id, actorId: t.instructor.id }),
    ]);
    // a new course's co-instructors are invited the same way
    const created = await t.request('POST', '/api/v1/courses', {
      as: t.instructor,
      body: {
        title: 'Created with a co-instructor',
        price: { amount: 0, currency: 'CNY' },
        level: 'beginner',
        language: 'en',
        instructorIds: [third.id],
      },
    });
    expect(created.json<{ instructors: { id: string }[] }>().instructors.map((i) => i.id)).toEqual([
      t.instructor.id,
    ]);
    expect((await myInvitations(third)).map((i) => i.courseId)).toContain(created.json<{ id: string }>().id);
  });

  it('lists a published course’s new instructor only after acceptance and a reviewer’s approval', async () => {
    const { id } = await t.publishedCourse({ title: 'Reviewed co-teaching' });
    const invite = await t.request('POST', `/api/v1/courses/${id}/invitations`, {
      as: t.instructor,
      body: { instructorId: third.id },
    });
    expect(invite.statusCode).toBe(201);
    const accepted = await t.request('POST', `/api/v1/me/invitations/${id}/accept`, { as: third });
    expect(accepted.json()).toMatchObject({ courseId: id, status: 'accepted' });
    expect(await instructorsOf(id)).toEqual([t.instructor.id]);
    const owner = await t.request('POST', `/api/v1/courses/${id}/invitations/${third.id}/approve`, {
      as: t.instructor,
    });
    expect(owner.statusCode).toBe(403);
    const approved = await t.request('POST', `/api/v1/courses/${id}/invitations/${third.id}/approve`, {
      as: t.admin,
    });
    expect(approved.statusCode).toBe(204);
    expect(await instructorsOf(id)).toEqual([t.instructor.id, third.id]);
    expect(await eventsFor('catalog.course.instructor_added', id)).toEqual([
      { courseId: id, instructorId: third.id, courseStatus: 'published' },
    ]);
    expect((await myInvitations(third)).map((i) => i.courseId)).not.toContain(id);
  });

  it('adds an accepted co-instructor of a draft at once, and lets them decline instead', async () => {
    const draft = await t.draftCourse({ title: 'Draft co-teaching' });
    await t.request('POST', `/api/v1/courses/${draft}/invitations`, {
      as: t.instructor,
      body: { instructorId: third.id },
    });
    await t.request('POST', `/api/v1/courses/${draft}/invitations`, {
      as: t.instructor,
      body: { instructorId: t.otherInstructor.id },
    });
    expect(
      (await t.request('POST', `/api/v1/me/invitations/${draft}/accept`, { as: third })).statusCode,
    ).toBe(200);
    expect(await instructorsOf(draft, t.instructor)).toEqual([t.instructor.id, third.id]);
    expect(
      (await t.request('POST', `/api/v1/me/invitations/${draft}/decline`, { as: t.otherInstructor }))
        .statusCode,
    ).toBe(204);
    expect(await eventsFor('catalog.invitation.closed', draft)).toEqual([
      expect.objectContaining({ instructorId: t.otherInstructor.id, outcome: 'declined' }),
    ]);
    const again = await t.request('POST', `/api/v1/me/invitations/${draft}/accept`, {
      as: t.otherInstructor,
    });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('catalog.invitation-not-found');
  });

  it('lets the owner withdraw an invitation, and nobody else invite', async () => {
    const { id } = await t.publishedCourse({ title: 'Withdrawn invitation' });
    const foreign = await t.request('POST', `/api/v1/courses/${id}/invitations`, {
      as: t.otherInstructor,
      body: { instructorId: t.otherInstructor.id },
    });
    expect(foreign.statusCode).toBe(403);
    await t.request('POST', `/api/v1/courses/${id}/invitations`, {
      as: t.instructor,
      body: { instructorId: third.id },
    });
    const withdrawn = await t.request('DELETE', `/api/v1/courses/${id}/invitations/${third.id}`, {
      as: t.instructor,
    });
    expect(withdrawn.statusCode).toBe(204);
    expect((await t.request('POST', `/api/v1/me/invitations/${id}/accept`, { as: third })).statusCode).toBe(
      404,
    );
    expect(await instructorsOf(id)).toEqual([t.instructor.id]);
  });

  it('lets any co-instructor leave; the owner cannot; others cannot remove them', async () => {
    const draft = await t.draftCourse({ title: 'Leaving' });
    await t.request('POST', `/api/v1/courses/${draft}/invitations`, {
      as: t.instructor,
      body: { instructorId: third.id },
    });
    await t.request('POST', `/api/v1/me/invitations/${draft}/accept`, { as: third });
    const stranger = await t.request('DELETE', `/api/v1/courses/${draft}/instructors/${third.id}`, {
      as: t.otherInstructor,
    });
    expect(stranger.statusCode).toBe(404);
    const owner = await t.request('DELETE', `/api/v1/courses/${draft}/instructors/${t.instructor.id}`, {
      as: t.instructor,
    });
    expect(owner.json().code).toBe('catalog.owner-cannot-leave');
    const left = await t.request('DELETE', `/api/v1/courses/${draft}/instructors/${third.id}`, { as: third });
    expect(left.statusCode).toBe(204);
    expect(await instructorsOf(draft, t.instructor)).toEqual([t.instructor.id]);
    expect(await eventsFor('catalog.course.instructor_removed', draft)).toEqual([
      { courseId: draft, instructorId: third.id, actorId: third.id, left: true },
    ]);
  });
});
