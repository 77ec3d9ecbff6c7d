import type { CourseLevel } from '../tables.js';

// Words the benchmark's bulk courses are made of (bulk.ts).

export const BULK_TOPICS = [
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
export const BULK_FORMS = [
  '入门',
  '实战',
  'from Scratch',
  '进阶指南',
  'Masterclass',
  '30 天速成',
  'in Practice',
  '精讲',
];
export const BULK_LEVELS: CourseLevel[] = ['beginner', 'intermediate', 'advanced', 'all_levels'];
export const BULK_CATEGORIES = [
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
