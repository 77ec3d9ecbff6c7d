import type { App } from '../../platform/http/server.js';
import type { BrowseService } from './browse.service.js';
import { InstructorPage, InstructorParams } from './instructors.schemas.js';
import type { InstructorsService } from './instructors.service.js';
import { Problem } from './routes.common.js';

/**
 * The public instructor page. The profile itself is written in identity
 * (`PUT /api/v1/me/instructor-profile`); the catalog only shows its copy.
 */
export function instructorsRoutes(instructors: InstructorsService, browse: BrowseService) {
  return (app: App) => {
    app.get(
      '/instructors/:instructorId',
      {
        schema: {
          tags: ['catalog'],
          summary: 'An instructor’s page with their newest published courses',
          params: InstructorParams,
          response: { 200: InstructorPage, 404: Problem },
        },
      },
      async (request) => {
        const profile = await instructors.profile(request.params.instructorId);
        const page = await browse.list({ instructorId: profile.id, limit: 20, sort: 'newest' });
        return { ...profile, courses: page };
      },
    );
  };
}
