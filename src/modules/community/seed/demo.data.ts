import { DEMO_LEARNER_IDS } from '../../identity/index.js';

/**
 * Demo discussions: who asks, what, and how the instructor answers. Learners here are identity's
 * demo learners (fixed ids, real accounts), so the members copy names them like anyone else;
 * instructors are the courses' own owners. Public demo data, never production data.
 */
export const DEMO_PERSONAS = DEMO_LEARNER_IDS;

/** How many of the newest published courses get a discussion on their first free preview lesson. */
export const DEMO_COURSES = 12;

export interface DemoThread {
  question: string;
  answer: string;
  /** A learner's follow-up under the instructor's answer. */
  followUp: string;
  /** A second top-level comment, without replies. */
  aside: string;
}

export const DEMO_THREADS: readonly DemoThread[] = [
  {
    question: '这节预览课讲得很清楚，请问完整课程里有配套的练习题吗？',
    answer: '有的，每一章最后都有练习和参考答案，购买后在课程目录里就能看到。',
    followUp: '谢谢老师，已经下单了！',
    aside: '视频的节奏刚刚好，适合下班后学习。',
  },
  {
    question: 'Is there a recommended order for the chapters, or can I jump around?',
    answer:
      'Chapters build on each other, so I suggest going in order the first time; later they work as a reference.',
    followUp: 'Makes sense, thank you!',
    aside: 'The handout alone was worth it. <b>Great</b> summary of the key ideas.',
  },
  {
    question: '没有基础可以直接学这门课吗？需要先准备什么？',
    answer: '零基础也可以，第一章会从环境准备讲起，跟着做就行。',
    followUp: '太好了，我从第一章开始。',
    aside: '字幕很清楚，手机上看也没问题。',
  },
  {
    question: 'How long does the whole course take if I study an hour a day?',
    answer: 'About three weeks at an hour a day, including the exercises.',
    followUp: 'Perfect for my schedule.',
    aside: 'Loved the real-world examples in this preview.',
  },
];
