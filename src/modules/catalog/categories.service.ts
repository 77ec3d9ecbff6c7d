import type { Kysely, Selectable, Updateable } from 'kysely';
import type { Static } from 'typebox';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { toPage } from '../../platform/http/pagination.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { CatalogCache } from './catalog.cache.js';
import { checkCursor } from './catalog.cursor.js';
import { type CategoryCreated, CategoryCreatedEvent, CategoryUpdatedEvent } from './catalog.events.js';
import {
  categoriesWithCounts,
  coursesInCategory,
  deleteCategory,
  isCategoryInUse,
  findCategoryById,
  findCategoryBySlug,
  insertCategory,
  isSelfOrDescendant,
  listCategories,
  updateCategory,
} from './categories.queries.js';
import type { Category as CategorySchema, CategoryNode as CategoryNodeSchema } from './categories.schemas.js';
import { refreshSearchDocument } from './courses.queries.js';
import type { CatalogTables, CategoryTable } from './tables.js';
import { CatalogErrors, NotFound } from './catalog.errors.js';
import { nonBlank } from './course.text.js';

export type Category = Static<typeof CategorySchema>;
export type CategoryNode = Static<typeof CategoryNodeSchema>;

const toCategory = (row: Selectable<CategoryTable>): Category => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  parentId: row.parent_id,
  position: row.position,
  createdAt: row.created_at.toISOString(),
});

const notFound = NotFound.category;

export function createCategoriesService(
  db: Kysely<CatalogTables>,
  read: Kysely<CatalogTables>,
  cache: CatalogCache,
) {
  async function assertSlugFree(trx: Kysely<CatalogTables>, slug: string, except?: string) {
    const existing = await findCategoryBySlug(trx, slug);
    if (existing && existing.id !== except) {
      throw AppError.conflict(CatalogErrors.categorySlugTaken, `The slug "${slug}" is already used.`);
    }
  }

  const parentMissing = () =>
    AppError.validation(CatalogErrors.parentCategoryMissing, 'The parent category does not exist.', [
      { field: '/body/parentId', message: 'no such category' },
    ]);

  return {
    async list(page: { limit: number; cursor?: string | undefined }) {
      checkCursor(page.cursor, 'date');
      const rows = await listCategories(read, page);
      return toPage(rows, page.limit, (r) => [r.created_at.toISOString(), r.id], toCategory);
    },

    /** The whole tree, depth first, siblings by position then name; counts include sub-categories. */
    async tree(): Promise<{ data: CategoryNode[] }> {
      return cache.listing('category-tree', {}, async () => {
        const rows = await categoriesWithCounts(read);
        const children = new Map<string | null, typeof rows>();
        for (const row of rows) children.set(row.parent_id, [...(children.get(row.parent_id) ?? []), row]);
        const out: CategoryNode[] = [];
        const walk = (parentId: string | null, depth: number): number => {
          let total = 0;
          const siblings = [...(children.get(parentId) ?? [])].sort(
            (a, b) => a.position - b.position || a.name.localeCompare(b.name),
          );
          for (const row of siblings) {
            const node: CategoryNode = {
              id: row.id,
              slug: row.slug,
              name: row.name,
              parentId: row.parent_id,
              position: row.position,
              depth,
              courseCount: 0,
            };
            out.push(node);
            node.courseCount = row.course_count + walk(row.id, depth + 1);
            total += node.courseCount;
          }
          return total;
        };
        walk(null, 0);
        return { data: out };
      });
    },

    async create(input: {
      slug: string;
      name: string;
      parentId?: string | undefined;
      position?: number | undefined;
    }): Promise<Category> {
      const category = await inTransaction(db, async (trx) => {
        await assertSlugFree(trx, input.slug);
        if (input.parentId && !(await findCategoryById(trx, input.parentId))) throw parentMissing();
        const row = await insertCategory(trx, {
          slug: input.slug,
          name: nonBlank(input.name, 'name'),
          parent_id: input.parentId ?? null,
          position: input.position ?? 0,
        });
        const data: CategoryCreated = { id: row.id, slug: row.slug, name: row.name, parentId: row.parent_id };
        await enqueue(trx, 'catalog', [CategoryCreatedEvent.create(row.id, data)]);
        return toCategory(row);
      });
      await cache.invalidateListings();
      return category;
    },

    async update(
      id: string,
      input: {
        slug?: string | undefined;
        name?: string | undefined;
        parentId?: string | null | undefined;
        position?: number | undefined;
      },
    ): Promise<Category> {
      const { category, renamedCourses } = await inTransaction(db, async (trx) => {
        const current = await findCategoryById(trx, id, { forUpdate: true });
        if (!current) throw notFound();
        const set: Updateable<CategoryTable> = {};
        if (input.slug !== undefined && input.slug !== current.slug) {
          await assertSlugFree(trx, input.slug, id);
          set.slug = input.slug;
        }
        if (input.name !== undefined) set.name = nonBlank(input.name, 'name');
        if (input.position !== undefined) set.position = input.position;
        if (input.parentId !== undefined && input.parentId !== current.parent_id) {
          if (input.parentId !== null) {
            if (!(await findCategoryById(trx, input.parentId))) throw parentMissing();
            if (await isSelfOrDescendant(trx, id, input.parentId)) {
              throw AppError.validation(CatalogErrors.categoryCycle, 'A category cannot move under itself.', [
                { field: '/body/parentId', message: 'is this category or one below it' },
              ]);
            }
          }
          set.parent_id = input.parentId;
        }
        if (Object.keys(set).length === 0) return { category: toCategory(current), renamedCourses: [] };
        const row = await updateCategory(trx, id, set);
        const data: CategoryCreated = { id: row.id, slug: row.slug, name: row.name, parentId: row.parent_id };
        await enqueue(trx, 'catalog', [CategoryUpdatedEvent.create(row.id, data)]);
        // the category name is part of each course's search document
        let renamed: string[] = [];
        if (set.name !== undefined && set.name !== current.name) {
          renamed = await coursesInCategory(trx, id);
          for (const courseId of renamed) await refreshSearchDocument(trx, courseId);
        }
        return { category: toCategory(row), renamedCourses: renamed };
      });
      await cache.invalidateCourse(...renamedCourses);
      return category;
    },

    async remove(id: string): Promise<void> {
      await inTransaction(db, async (trx) => {
        if (!(await findCategoryById(trx, id, { forUpdate: true }))) throw notFound();
        if (await isCategoryInUse(trx, id)) {
          throw AppError.conflict(
            CatalogErrors.categoryInUse,
            'Move its sub-categories and courses elsewhere first.',
          );
        }
        await deleteCategory(trx, id);
      });
      await cache.invalidateListings();
    },
  };
}

export type CategoriesService = ReturnType<typeof createCategoriesService>;
