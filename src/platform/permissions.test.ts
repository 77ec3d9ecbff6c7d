import { describe, expect, it } from 'vitest';
import { isRole, permissionMap } from './permissions.js';

describe('permission maps', () => {
  const { rolesFor, can } = permissionMap({
    'notes:write': ['instructor', 'admin'],
    'notes:delete-any': ['admin'],
  });

  it('lists the roles of a permission, as a copy the caller may change', () => {
    const roles = rolesFor('notes:write');
    expect(roles).toEqual(['instructor', 'admin']);
    roles.push('learner');
    expect(rolesFor('notes:write')).toEqual(['instructor', 'admin']);
  });

  it('grants when any role holds the permission, and only then', () => {
    expect(can(['learner', 'instructor'], 'notes:write')).toBe(true);
    expect(can(['learner', 'instructor'], 'notes:delete-any')).toBe(false);
    expect(can([], 'notes:write')).toBe(false);
    expect(can(['superuser'], 'notes:delete-any')).toBe(false);
  });

  it('knows the platform roles', () => {
    expect(isRole('admin')).toBe(true);
    expect(isRole('root')).toBe(false);
  });
});
