import type { BenchScenario } from '../../platform/module.js';

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}

const firstCourseId = async (baseUrl: string): Promise<string> => {
  const page = (await getJson(`${baseUrl}/api/v1/courses?limit=1`)) as { data?: { id?: string }[] };
  const id = page.data?.[0]?.id;
  if (!id) throw new Error('no published course: seed the catalog first (npm run seed, or seedBulkCourses)');
  return id;
};

/** Public reads with a warm cache: the paths every visitor hits first. */
export const catalogBench: BenchScenario[] = [
  {
    name: 'catalog: course list, newest, warm cache',
    async prepare({ baseUrl }) {
      const path = '/api/v1/courses?limit=20';
      await getJson(`${baseUrl}${path}`);
      return { path };
    },
  },
  {
    name: 'catalog: course detail with outline, warm cache',
    async prepare({ baseUrl }) {
      const path = `/api/v1/courses/${await firstCourseId(baseUrl)}`;
      await getJson(`${baseUrl}${path}`);
      return { path };
    },
  },
  {
    name: 'catalog: full-text search (not cached)',
    async prepare({ baseUrl }) {
      const path = `/api/v1/courses?limit=20&q=${encodeURIComponent('python 入门')}`;
      await getJson(`${baseUrl}${path}`);
      return { path };
    },
  },
];
