import { Type } from 'typebox';

const Slug = Type.String({
  pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$',
  minLength: 1,
  maxLength: 80,
  examples: ['programming'],
});
const Name = Type.String({ minLength: 1, maxLength: 120, examples: ['编程 Programming'] });

export const Category = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    slug: Type.String(),
    name: Type.String(),
    parentId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    position: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Category' },
);

export const CategoryNode = Type.Object({
  id: Type.String({ format: 'uuid' }),
  slug: Type.String(),
  name: Type.String(),
  parentId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  position: Type.Integer(),
  depth: Type.Integer({ description: '0 for a top-level category' }),
  courseCount: Type.Integer({ description: 'Published courses here and in every sub-category' }),
});

export const CategoryTree = Type.Object({
  data: Type.Array(CategoryNode, {
    description: 'Depth-first order: each category is followed by its sub-categories',
  }),
});

export const CreateCategoryBody = Type.Object({
  slug: Slug,
  name: Name,
  parentId: Type.Optional(Type.String({ format: 'uuid' })),
  position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
});

export const UpdateCategoryBody = Type.Object({
  slug: Type.Optional(Slug),
  name: Type.Optional(Name),
  parentId: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])),
  position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
});
