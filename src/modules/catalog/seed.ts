import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { type Insertable, type Kysely, sql } from 'kysely';
import { inTransaction } from '../../platform/db/database.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { Storage } from '../../platform/storage/storage.js';
import { type CoursePublished, CoursePublishedEvent } from './catalog.events.js';
import {
  addSearchWords,
  ensureTags,
  refreshCourseStats,
  refreshSearchDocument,
  replaceCourseInstructors,
  replaceCourseTags,
  searchDocument,
} from './courses.queries.js';
import { readingSeconds } from './search.js';
import { sampleEpub, sampleMp4, samplePdf, samplePng } from './sample-files.js';
import type { AssetKind, CatalogTables, CourseLevel, LessonTable } from './tables.js';

type Db = Kysely<CatalogTables>;

export interface DemoInstructor {
  id: string;
  displayName: string;
  headline?: string;
}

/** Fixed ids, so the identity module's demo accounts can use the same ones. */
export const DEMO_INSTRUCTORS: Required<DemoInstructor>[] = [
  {
    id: '00000000-0000-4000-8000-00000000a001',
    displayName: '王磊',
    headline: '资深 Python 工程师，十年后端经验',
  },
  {
    id: '00000000-0000-4000-8000-00000000a002',
    displayName: 'Alice Chen',
    headline: 'Full-stack developer and teacher',
  },
  {
    id: '00000000-0000-4000-8000-00000000a003',
    displayName: '李娜',
    headline: '数据科学家 · Data scientist',
  },
  {
    id: '00000000-0000-4000-8000-00000000a004',
    displayName: 'David Miller',
    headline: 'Product designer, ex-agency',
  },
  { id: '00000000-0000-4000-8000-00000000a005', displayName: '张伟老师', headline: '英语教学十年，雅思 8.5' },
  { id: '00000000-0000-4000-8000-00000000a006', displayName: '陈静', headline: '注册理财规划师 CFP' },
];

const CATEGORIES: { slug: string; name: string; parent?: string }[] = [
  { slug: 'programming', name: '编程开发 Programming' },
  { slug: 'python', name: 'Python', parent: 'programming' },
  { slug: 'web', name: 'Web 前端 Web Development', parent: 'programming' },
  { slug: 'data-science', name: '数据科学 Data Science', parent: 'programming' },
  { slug: 'mobile', name: '移动开发 Mobile', parent: 'programming' },
  { slug: 'business', name: '商业管理 Business' },
  { slug: 'finance', name: '金融理财 Finance', parent: 'business' },
  { slug: 'marketing', name: '市场营销 Marketing', parent: 'business' },
  { slug: 'languages', name: '语言学习 Languages' },
  { slug: 'english', name: '英语 English', parent: 'languages' },
  { slug: 'japanese', name: '日语 Japanese', parent: 'languages' },
  { slug: 'design', name: '设计创意 Design' },
  { slug: 'career', name: '职场技能 Career' },
  { slug: 'lifestyle', name: '生活兴趣 Lifestyle' },
];

type DemoCourse = [
  title: string,
  subtitle: string,
  category: string,
  instructor: number,
  price: number,
  level: CourseLevel,
  language: string,
  tags: string[],
];

// prices in fen (CNY minor units); 0 is free
const COURSES: DemoCourse[] = [
  [
    'Python编程入门',
    '零基础学 Python：变量、函数到小项目',
    'python',
    0,
    9900,
    'beginner',
    'zh-CN',
    ['python', '入门'],
  ],
  [
    'Python 数据分析实战',
    '用 pandas 和 matplotlib 分析真实数据',
    'data-science',
    2,
    19900,
    'intermediate',
    'zh-CN',
    ['python', 'pandas', '数据分析'],
  ],
  [
    'Python Web 开发：Django 全栈',
    '从模型到部署，做一个完整网站',
    'python',
    0,
    29900,
    'intermediate',
    'zh-CN',
    ['python', 'django', 'web'],
  ],
  [
    'Python 自动化办公',
    'Excel、Word 与邮件自动化，告别重复劳动',
    'python',
    0,
    0,
    'beginner',
    'zh-CN',
    ['python', '自动化', '办公'],
  ],
  [
    'Asynchronous Python with asyncio',
    'Event loops, tasks and real-world concurrency',
    'python',
    1,
    24900,
    'advanced',
    'en',
    ['python', 'asyncio'],
  ],
  [
    'Python 爬虫从入门到精通',
    'requests、解析与反爬策略',
    'python',
    0,
    15900,
    'intermediate',
    'zh-CN',
    ['python', '爬虫'],
  ],
  [
    'JavaScript Fundamentals',
    'The language of the web, from scratch',
    'web',
    1,
    0,
    'beginner',
    'en',
    ['javascript', 'web'],
  ],
  [
    'TypeScript 从零到精通',
    '类型系统、泛型与工程化实践',
    'web',
    1,
    19900,
    'intermediate',
    'zh-CN',
    ['typescript', 'javascript'],
  ],
  [
    'React 18 实战开发',
    'Hooks、状态管理与性能优化',
    'web',
    1,
    25900,
    'intermediate',
    'zh-CN',
    ['react', 'javascript', 'web'],
  ],
  [
    'Vue 3 企业级项目开发',
    '组合式 API 与 Pinia 实战',
    'web',
    1,
    22900,
    'intermediate',
    'zh-CN',
    ['vue', 'javascript'],
  ],
  [
    'CSS Layout Mastery',
    'Flexbox, Grid and responsive design',
    'web',
    3,
    9900,
    'beginner',
    'en',
    ['css', 'web', 'design'],
  ],
  [
    'Node.js Backend Development',
    'REST APIs with Fastify and PostgreSQL',
    'web',
    1,
    27900,
    'intermediate',
    'en',
    ['node.js', 'javascript', 'backend'],
  ],
  [
    '前端性能优化指南',
    '加载、渲染与监控的系统方法',
    'web',
    1,
    16900,
    'advanced',
    'zh-CN',
    ['web', '性能优化'],
  ],
  [
    '机器学习入门',
    '从线性回归到决策树，理解核心算法',
    'data-science',
    2,
    29900,
    'beginner',
    'zh-CN',
    ['机器学习', 'python'],
  ],
  [
    'Deep Learning with PyTorch',
    'Neural networks, CNNs and transformers',
    'data-science',
    2,
    39900,
    'advanced',
    'en',
    ['pytorch', 'deep learning', 'python'],
  ],
  [
    'SQL 数据库入门',
    '查询、连接与索引，一门课讲透',
    'data-science',
    2,
    0,
    'beginner',
    'zh-CN',
    ['sql', '数据库'],
  ],
  [
    'Statistics for Data Science',
    'Probability, inference and A/B testing',
    'data-science',
    2,
    19900,
    'intermediate',
    'en',
    ['statistics', 'data'],
  ],
  [
    '数据可视化：从图表到故事',
    '让数据说话的设计方法',
    'data-science',
    2,
    12900,
    'beginner',
    'zh-CN',
    ['可视化', '数据分析'],
  ],
  [
    '大模型应用开发实战',
    'Prompt 工程、RAG 与智能体',
    'data-science',
    2,
    49900,
    'advanced',
    'zh-CN',
    ['ai', '大模型', 'python'],
  ],
  [
    'Flutter 跨平台开发',
    '一套代码，iOS 与 Android 双端运行',
    'mobile',
    1,
    25900,
    'intermediate',
    'zh-CN',
    ['flutter', 'dart', '移动开发'],
  ],
  [
    'iOS Development with SwiftUI',
    'Build and ship your first iPhone app',
    'mobile',
    1,
    29900,
    'beginner',
    'en',
    ['swift', 'ios'],
  ],
  [
    'Android Kotlin 开发入门',
    'Jetpack Compose 构建现代界面',
    'mobile',
    1,
    19900,
    'beginner',
    'zh-CN',
    ['kotlin', 'android'],
  ],
  [
    'Git 与团队协作',
    '分支策略、代码评审与持续集成',
    'programming',
    0,
    0,
    'beginner',
    'zh-CN',
    ['git', '工程化'],
  ],
  [
    'Linux 命令行基础',
    'Shell、权限与常用工具',
    'programming',
    0,
    6900,
    'beginner',
    'zh-CN',
    ['linux', 'shell'],
  ],
  [
    'Algorithms and Data Structures',
    'Sorting, searching and graphs, with interview practice',
    'programming',
    1,
    29900,
    'intermediate',
    'en',
    ['algorithms', 'interview'],
  ],
  [
    'Go 语言高并发编程',
    'goroutine、channel 与微服务',
    'programming',
    0,
    26900,
    'advanced',
    'zh-CN',
    ['go', '并发', '微服务'],
  ],
  [
    'Docker 与 Kubernetes 实战',
    '容器化部署与集群运维',
    'programming',
    0,
    29900,
    'intermediate',
    'zh-CN',
    ['docker', 'kubernetes', '运维'],
  ],
  [
    'Rust Programming for Beginners',
    'Ownership, borrowing and safe systems code',
    'programming',
    1,
    24900,
    'beginner',
    'en',
    ['rust'],
  ],
  [
    '个人理财入门',
    '记账、预算与应急金，建立财务安全感',
    'finance',
    5,
    0,
    'beginner',
    'zh-CN',
    ['理财', '入门'],
  ],
  ['基金定投实战课', '指数基金选择与长期投资策略', 'finance', 5, 9900, 'beginner', 'zh-CN', ['基金', '投资']],
  [
    'Personal Finance 101',
    'Budgeting, saving and investing basics',
    'finance',
    5,
    4900,
    'beginner',
    'en',
    ['finance', 'investing'],
  ],
  [
    '财务报表分析',
    '读懂三大报表，看透企业经营',
    'finance',
    5,
    19900,
    'intermediate',
    'zh-CN',
    ['财务', '分析'],
  ],
  [
    '新媒体运营实战',
    '公众号、小红书与短视频增长',
    'marketing',
    3,
    15900,
    'beginner',
    'zh-CN',
    ['运营', '新媒体'],
  ],
  [
    'Digital Marketing Strategy',
    'SEO, content and paid acquisition',
    'marketing',
    3,
    19900,
    'intermediate',
    'en',
    ['marketing', 'seo'],
  ],
  [
    '产品经理入门',
    '需求分析、原型设计与项目推进',
    'business',
    3,
    19900,
    'beginner',
    'zh-CN',
    ['产品经理', '职场'],
  ],
  [
    'Leadership for New Managers',
    'One-on-ones, feedback and hiring',
    'business',
    3,
    14900,
    'intermediate',
    'en',
    ['leadership', 'management'],
  ],
  ['创业第一课', '从想法到商业模式验证', 'business', 5, 9900, 'beginner', 'zh-CN', ['创业', '商业模式']],
  ['零基础英语口语', '每天 15 分钟，开口说英语', 'english', 4, 0, 'beginner', 'zh-CN', ['英语', '口语']],
  [
    '雅思 7 分冲刺',
    '听说读写全方位备考策略',
    'english',
    4,
    39900,
    'advanced',
    'zh-CN',
    ['雅思', '英语', '考试'],
  ],
  [
    'Business English Writing',
    'Emails, reports and proposals that work',
    'english',
    4,
    12900,
    'intermediate',
    'en',
    ['english', 'writing'],
  ],
  ['英语语法精讲', '从时态到从句，系统梳理', 'english', 4, 8900, 'beginner', 'zh-CN', ['英语', '语法']],
  ['日语五十音入门', '平假名、片假名与基础发音', 'japanese', 4, 0, 'beginner', 'zh-CN', ['日语', '入门']],
  ['日语 N2 备考', '语法、词汇与真题精练', 'japanese', 4, 29900, 'intermediate', 'zh-CN', ['日语', '考试']],
  ['UI 设计基础', '色彩、排版与组件设计', 'design', 3, 15900, 'beginner', 'zh-CN', ['ui', '设计']],
  [
    'Figma for Product Designers',
    'Components, auto layout and prototyping',
    'design',
    3,
    19900,
    'intermediate',
    'en',
    ['figma', 'design', 'ui'],
  ],
  [
    '摄影入门：用手机拍大片',
    '构图、光线与后期修图',
    'lifestyle',
    3,
    6900,
    'beginner',
    'zh-CN',
    ['摄影', '手机'],
  ],
  [
    'Adobe Photoshop 从入门到精通',
    '修图、合成与海报设计',
    'design',
    3,
    17900,
    'beginner',
    'zh-CN',
    ['photoshop', '设计'],
  ],
  ['高效时间管理', '番茄工作法与 GTD 实践', 'career', 3, 0, 'all_levels', 'zh-CN', ['效率', '职场']],
  [
    'Public Speaking with Confidence',
    'Structure, delivery and handling nerves',
    'career',
    4,
    9900,
    'all_levels',
    'en',
    ['speaking', 'communication'],
  ],
  ['Excel 数据处理与分析', '函数、透视表与图表', 'career', 5, 9900, 'beginner', 'zh-CN', ['excel', '办公']],
  ['职场沟通与表达', '汇报、谈判与跨部门协作', 'career', 3, 12900, 'all_levels', 'zh-CN', ['沟通', '职场']],
  ['面试通关指南', '简历、行为面试与薪资谈判', 'career', 1, 4900, 'all_levels', 'zh-CN', ['面试', '求职']],
  ['家常菜 30 讲', '从刀工到火候，做好一日三餐', 'lifestyle', 5, 4900, 'beginner', 'zh-CN', ['烹饪', '生活']],
  [
    'Mindfulness and Stress Relief',
    'Practical meditation for busy people',
    'lifestyle',
    4,
    0,
    'all_levels',
    'en',
    ['mindfulness', 'health'],
  ],
  ['吉他弹唱入门', '和弦、节奏与 20 首经典歌曲', 'lifestyle', 4, 9900, 'beginner', 'zh-CN', ['吉他', '音乐']],
];

const COLOURS: [number, number, number][] = [
  [37, 99, 235],
  [22, 163, 74],
  [234, 88, 12],
  [147, 51, 234],
  [220, 38, 38],
  [8, 145, 178],
];

/** Categories and instructor profiles the demo (and bulk) courses hang off; idempotent. */
export async function ensureDemoBase(
  db: Db,
  instructors: DemoInstructor[] = DEMO_INSTRUCTORS,
): Promise<Map<string, string>> {
  for (const [position, c] of CATEGORIES.entries()) {
    const parent = c.parent
      ? await db.selectFrom('catalog.categories').select('id').where('slug', '=', c.parent).executeTakeFirst()
      : undefined;
    await db
      .insertInto('catalog.categories')
      .values({ slug: c.slug, name: c.name, parent_id: parent?.id ?? null, position })
      .onConflict((oc) => oc.column('slug').doNothing())
      .execute();
  }
  for (const i of instructors) {
    await db
      .insertInto('catalog.instructors')
      .values({ id: i.id, display_name: i.displayName, headline: i.headline ?? '' })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
  const rows = await db.selectFrom('catalog.categories').select(['id', 'slug']).execute();
  return new Map(rows.map((r) => [r.slug, r.id]));
}

async function storeAsset(
  db: Db,
  storage: Storage,
  courseId: string,
  ownerId: string,
  file: {
    kind: AssetKind;
    contentType: string;
    name: string;
    bytes: Buffer;
    durationSeconds?: number;
    pageCount?: number;
  },
): Promise<string> {
  const id = randomUUID();
  const key = `courses/${courseId}/${id}`;
  const stored = await storage.put(key, Readable.from([file.bytes]), { contentType: file.contentType });
  await db
    .insertInto('catalog.assets')
    .values({
      id,
      course_id: courseId,
      uploaded_by: ownerId,
      kind: file.kind,
      content_type: file.contentType,
      original_name: file.name,
      storage_key: key,
      size_bytes: stored.size,
      sha256: stored.sha256,
      duration_seconds: file.durationSeconds ?? null,
      page_count: file.pageCount ?? null,
    })
    .execute();
  return id;
}

const DAY = 24 * 3600 * 1000;

/**
 * A live-looking catalog for a newcomer: categories, instructors and 55 published courses with
 * chapters, lessons, covers and small sample files. Does nothing when any course exists.
 */
export async function seedDemoCatalog(
  db: Db,
  storage: Storage,
  options: { instructors?: DemoInstructor[] | undefined; now?: Date } = {},
): Promise<string[] | undefined> {
  const existing = await db.selectFrom('catalog.courses').select('id').limit(1).executeTakeFirst();
  if (existing) return undefined;
  // given accounts take the first slots, so a demo login owns some courses it can edit
  const given = options.instructors ?? [];
  const instructors: DemoInstructor[] = DEMO_INSTRUCTORS.map((slot, i) => given[i] ?? slot);
  const categories = await ensureDemoBase(db, instructors);
  const now = options.now ?? new Date();
  // one set of sample files, stored once per course so deleting one course's files is safe
  const videoSeconds = 8 * 60 + 30;
  const video = sampleMp4(videoSeconds);
  const handout = await samplePdf('Lectern sample handout', [
    'This is a sample document attached to a demo course.',
    'Replace it with your own PDF from the course studio.',
    'Paid lessons are delivered through short-lived signed links.',
  ]);
  const ebook = sampleEpub('示例电子书 Sample e-book', [
    '这是演示课程附带的电子书。',
    'This e-book belongs to a demo course.',
  ]);

  for (const [
    index,
    [title, subtitle, category, instructorIndex, price, level, language, tags],
  ] of COURSES.entries()) {
    const owner = instructors[instructorIndex % instructors.length] ?? DEMO_INSTRUCTORS[0];
    if (!owner) continue;
    const zh = language.startsWith('zh');
    const publishedAt = new Date(now.getTime() - (COURSES.length - index) * DAY * 3);
    await inTransaction(db, async (trx) => {
      const { id } = await trx
        .insertInto('catalog.courses')
        .values({
          owner_id: owner.id,
          title,
          subtitle,
          description: zh
            ? `## 课程简介\n\n${subtitle}。\n\n本课程由 **${owner.displayName}** 讲授，配有视频、讲义和练习。\n\n- 适合人群：希望系统学习的同学\n- 学完收获：能独立完成课程项目`
            : `## About this course\n\n${subtitle}.\n\nTaught by **${owner.displayName}**, with videos, handouts and exercises.\n\n- Who it is for: anyone who wants a structured path\n- What you get: a finished project of your own`,
          category_id: categories.get(category) ?? null,
          cover_asset_id: null,
          price_amount: price,
          currency: 'CNY',
          level,
          language,
          status: 'published',
          review_note: null,
          submitted_at: publishedAt,
          published_at: publishedAt,
          popularity: ((index * 7919) % 5000) + 20,
          rating_x100: 380 + ((index * 37) % 120),
          rating_count: ((index * 131) % 900) + 5,
          created_at: publishedAt,
          updated_at: publishedAt,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const colour = COLOURS[index % COLOURS.length] ?? [37, 99, 235];
      const cover = await storeAsset(trx, storage, id, owner.id, {
        kind: 'image',
        contentType: 'image/png',
        name: 'cover.png',
        bytes: samplePng(64, 36, colour),
      });
      const videoId = await storeAsset(trx, storage, id, owner.id, {
        kind: 'video',
        contentType: 'video/mp4',
        name: zh ? '第1课.mp4' : 'lesson-1.mp4',
        bytes: video,
        durationSeconds: videoSeconds,
      });
      const pdfId = await storeAsset(trx, storage, id, owner.id, {
        kind: 'document',
        contentType: 'application/pdf',
        name: zh ? '课程讲义.pdf' : 'handout.pdf',
        bytes: handout,
        pageCount: 3,
      });
      await trx.updateTable('catalog.courses').set({ cover_asset_id: cover }).where('id', '=', id).execute();

      const chapters = zh
        ? ['第一章 课程导学', '第二章 核心内容']
        : ['Chapter 1: Getting started', 'Chapter 2: Core skills'];
      const [first, second] = await Promise.all(
        chapters.map((chapterTitle, position) =>
          trx
            .insertInto('catalog.chapters')
            .values({ course_id: id, title: chapterTitle, position })
            .returning('id')
            .executeTakeFirstOrThrow(),
        ),
      );
      if (!first || !second) return;
      const article = zh
        ? `# 学习方法\n\n先看视频，再读讲义，最后完成练习。遇到问题可以在讨论区提问。`
        : `# How to study\n\nWatch the video, read the handout, then do the exercise. Ask in the discussion if you get stuck.`;
      const lessons: Omit<Insertable<LessonTable>, 'course_id'>[] = [
        {
          chapter_id: first.id,
          title: zh ? '课程介绍' : 'Welcome and overview',
          kind: 'video',
          position: 0,
          free_preview: true,
          asset_id: videoId,
          body: null,
          duration_seconds: videoSeconds,
        },
        {
          chapter_id: first.id,
          title: zh ? '学习方法' : 'How to study',
          kind: 'article',
          position: 1,
          free_preview: true,
          asset_id: null,
          body: article,
          duration_seconds: readingSeconds(article),
        },
        {
          chapter_id: second.id,
          title: zh ? '核心概念讲解' : 'Core concepts',
          kind: 'video',
          position: 0,
          free_preview: false,
          asset_id: videoId,
          body: null,
          duration_seconds: videoSeconds,
        },
        {
          chapter_id: second.id,
          title: zh ? '课程讲义' : 'Handout',
          kind: 'document',
          position: 1,
          free_preview: false,
          asset_id: pdfId,
          body: null,
          duration_seconds: null,
        },
      ];
      if (index % 4 === 0) {
        const ebookId = await storeAsset(trx, storage, id, owner.id, {
          kind: 'ebook',
          contentType: 'application/epub+zip',
          name: zh ? '配套电子书.epub' : 'companion.epub',
          bytes: ebook,
        });
        lessons.push({
          chapter_id: second.id,
          title: zh ? '配套电子书' : 'Companion e-book',
          kind: 'ebook',
          position: 2,
          free_preview: false,
          asset_id: ebookId,
          body: null,
          duration_seconds: null,
        });
      }
      await trx
        .insertInto('catalog.lessons')
        .values(lessons.map((l) => ({ ...l, course_id: id })))
        .execute();
      await replaceCourseInstructors(trx, id, [owner.id]);
      await replaceCourseTags(trx, id, tags);
      await refreshCourseStats(trx, id);
      await refreshSearchDocument(trx, id);
      const published: CoursePublished = {
        courseId: id,
        ownerId: owner.id,
        instructorIds: [owner.id],
        title,
        priceAmount: price,
        currency: 'CNY',
        publishedAt: publishedAt.toISOString(),
      };
      // downstream modules (commerce, analytics) learn about demo courses like any other
      await enqueue(trx, 'catalog', [CoursePublishedEvent.create(id, published)]);
    });
  }
  return [
    `catalog: ${CATEGORIES.length} categories, ${instructors.length} instructors, ${COURSES.length} published courses with lessons and sample files`,
    `catalog: browse GET /api/v1/courses, search GET /api/v1/courses?q=编程 or ?q=pyhton`,
  ];
}

const BULK_TOPICS = [
  ['Python', 'python'],
  ['JavaScript', 'javascript'],
  ['数据分析', '数据分析'],
  ['机器学习', '机器学习'],
  ['产品设计', '设计'],
  ['英语口语', '英语'],
  ['理财规划', '理财'],
  ['Kubernetes', 'kubernetes'],
  ['React', 'react'],
  ['摄影', '摄影'],
] as const;
const BULK_FORMS = [
  '入门',
  '实战',
  'from Scratch',
  '进阶指南',
  'Masterclass',
  '30 天速成',
  'in Practice',
  '精讲',
];
const BULK_LEVELS: CourseLevel[] = ['beginner', 'intermediate', 'advanced', 'all_levels'];
const BULK_CATEGORIES = [
  'python',
  'web',
  'data-science',
  'data-science',
  'design',
  'english',
  'finance',
  'programming',
  'web',
  'lifestyle',
];

/**
 * Insert `n` published courses quickly (for the 100,000-course benchmark): set-based inserts in
 * batches, one chapter and two article lessons each, search documents included, no events and
 * no files. Returns how many were created.
 */
export async function seedBulkCourses(
  database: Kysely<object>,
  n: number,
  options: { batchSize?: number } = {},
): Promise<number> {
  const db = database.withTables<CatalogTables>();
  const categories = await ensureDemoBase(db);
  const tagIds = new Map<string, string>();
  for (const [, tag] of BULK_TOPICS) {
    const [id] = await ensureTags(db, [tag]);
    if (id) tagIds.set(tag, id);
  }
  const batchSize = options.batchSize ?? 500;
  const now = Date.now();
  const words = new Set<string>();
  let created = 0;
  while (created < n) {
    const count = Math.min(batchSize, n - created);
    const rows = Array.from({ length: count }, (_, j) => {
      const i = created + j;
      const topicIndex = i % BULK_TOPICS.length;
      const [topic, tag] = BULK_TOPICS[topicIndex] ?? BULK_TOPICS[0];
      const form = BULK_FORMS[Math.floor(i / BULK_TOPICS.length) % BULK_FORMS.length] ?? '';
      const instructor = DEMO_INSTRUCTORS[i % DEMO_INSTRUCTORS.length] ?? DEMO_INSTRUCTORS[0];
      const title = `${topic} ${form} No.${i + 1}`;
      const subtitle = `Bulk course ${i + 1}: ${topic}`;
      const doc = searchDocument({
        title,
        subtitle,
        description: '',
        tags: [tag],
        instructorNames: [instructor?.displayName ?? ''],
        categoryName: null,
      });
      for (const w of doc.words) words.add(w);
      const publishedAt = new Date(now - i * 60_000);
      return {
        course: {
          id: randomUUID(),
          owner_id: instructor?.id ?? '',
          title,
          subtitle,
          description: `Generated for benchmarks. ${topic}.`,
          category_id: categories.get(BULK_CATEGORIES[topicIndex] ?? 'programming') ?? null,
          cover_asset_id: null,
          price_amount: (i % 7) * 3000,
          currency: 'CNY',
          level: BULK_LEVELS[i % BULK_LEVELS.length] ?? 'beginner',
          language: i % 3 === 0 ? 'en' : 'zh-CN',
          status: 'published' as const,
          review_note: null,
          submitted_at: publishedAt,
          published_at: publishedAt,
          popularity: (i * 7919) % 10_000,
          rating_x100: 300 + ((i * 37) % 200),
          rating_count: (i * 131) % 1000,
          lesson_count: 2,
          duration_seconds: 1200,
          search_vector: sql<string>`${doc.vector}::tsvector`,
          created_at: publishedAt,
          updated_at: publishedAt,
        },
        tagId: tagIds.get(tag),
      };
    });
    await inTransaction(db, async (trx) => {
      await trx
        .insertInto('catalog.courses')
        .values(rows.map((r) => r.course))
        .execute();
      await trx
        .insertInto('catalog.course_instructors')
        .values(rows.map((r) => ({ course_id: r.course.id, instructor_id: r.course.owner_id, position: 0 })))
        .execute();
      const tagged = rows.flatMap((r) => (r.tagId ? [{ course_id: r.course.id, tag_id: r.tagId }] : []));
      if (tagged.length > 0) await trx.insertInto('catalog.course_tags').values(tagged).execute();
      const ids = rows.map((r) => r.course.id);
      await sql`
        with ch as (
          insert into catalog.chapters (course_id, title, position)
          select id, 'Chapter 1', 0 from unnest(${ids}::uuid[]) as id
          returning id, course_id
        )
        insert into catalog.lessons (course_id, chapter_id, title, kind, position, duration_seconds, free_preview, body)
        select ch.course_id, ch.id, l.title, 'article', l.position, 600, l.position = 0, l.body
        from ch cross join (values ('Introduction', 0, 'Welcome.'), ('Deep dive', 1, 'The details.')) as l(title, position, body)`.execute(
        trx,
      );
    });
    created += count;
  }
  await addSearchWords(db, [...words]);
  return created;
}
