import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { PreferencesChange, PreferencesView } from './preferences.schemas.js';
import type { PreferencesService } from './preferences.service.js';
import { bearer, userIdOf } from './routes.common.js';

export function preferencesRoutes(preferences: PreferencesService) {
  return (app: App, { auth }: HttpKit) => {
    const user = auth.require();
    app.get(
      '/me/notification-preferences',
      {
        preHandler: [user],
        schema: {
          tags: ['notify'],
          summary: 'My notification preferences: channels per kind, locale, quiet hours',
          security: bearer,
          response: { 200: PreferencesView, ...errorResponses(401, 403) },
        },
      },
      (request) => preferences.get(userIdOf(request)),
    );
    app.put(
      '/me/notification-preferences',
      {
        preHandler: [user],
        schema: {
          tags: ['notify'],
          summary: 'Change my notification preferences (fields left out stay as they are)',
          description: 'Transactional kinds (receipts, refunds, security notices) cannot be turned off: 409.',
          security: bearer,
          body: PreferencesChange,
          response: { 200: PreferencesView, ...errorResponses(400, 401, 403, 409) },
        },
      },
      (request) => preferences.change(userIdOf(request), request.body),
    );
  };
}
