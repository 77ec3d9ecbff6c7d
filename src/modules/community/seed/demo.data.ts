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

export interface DemoReview {
  rating: number;
  body: string;
}

/**
 * What a demo learner writes about a demo course once learning has granted it (the
 * `community.demo-review` job): mostly 4 and 5 stars, one 3, so course pages show plausible
 * ratings. Entry (learner's position + course's position in the demo catalog) mod the length, a
 * prime, so learners and courses taken in step (as commerce's demo sales take them) rarely meet
 * the same text twice. None holds a word of the shipped list (the test checks each).
 */
export const DEMO_REVIEWS: readonly [DemoReview, ...DemoReview[]] = [
  { rating: 5, body: '讲解清晰，例子贴近实际工作，每章的练习都很有帮助。强烈推荐！' },
  {
    rating: 4,
    body: 'Solid course with clear explanations. A few videos run long, but the exercises make up for it.',
  },
  { rating: 5, body: '零基础也能跟上，老师回答问题很及时。学完之后已经用在项目里了。' },
  {
    rating: 5,
    body: 'Exactly what I needed: practical, well paced, and the handouts are great for a quick review.',
  },
  { rating: 4, body: 'Good value. I would have liked more advanced material in the last chapter.' },
  { rating: 3, body: '内容不错，但后半部分节奏偏快，希望能多一些示例和讲解。' },
  { rating: 5, body: '结构清楚，从入门到进阶循序渐进，字幕和讲义都很用心。' },
  {
    rating: 4,
    body: 'Clear and friendly teaching. The quizzes helped me check what I had really understood.',
  },
  { rating: 5, body: '第二遍学习依然有收获，推荐给想系统入门的朋友。Worth the time.' },
  {
    rating: 5,
    body: 'The instructor explains the why, not just the how. The best course I have taken this year.',
  },
  { rating: 4, body: '案例很实用，个别视频音量偏小，整体很满意。' },
  { rating: 5, body: 'Well organised and easy to follow on my phone during the commute.' },
  { rating: 4, body: '老师讲得细致，课后答疑也很耐心，值得购买。' },
];
