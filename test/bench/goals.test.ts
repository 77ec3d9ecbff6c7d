import { describe, expect, it } from 'vitest';
import {
  checkGoals,
  type GoalInput,
  hasPgbenchGoal,
  hasRatioGoal,
  medianRound,
  roundRatio,
} from '../../bench/goals.js';
import type { Measurement } from '../../bench/report.js';

const LIST = 'catalog/course list, newest first page, warm cache';
const ACCESS = 'learning/content access check, entitled learner, warm';
const CHECKOUTS = 'commerce/full checkouts (order → sandbox payment → pay → notification → paid)';

/** The goals of a run on PostgreSQL within its memory and start-up goals; `input` adds the rest. */
const onPostgres = (input: Omit<GoalInput, 'database' | 'peakRssMB' | 'readySeconds'>) =>
  checkGoals({ database: 'postgres', peakRssMB: 200, readySeconds: 2, ...input });

const measured = (name: string, ratio: number, bytesPerResponse: number): Measurement => ({
  name,
  method: 'GET',
  path: '/',
  reqPerSec: ratio * 50_000,
  latencyMs: { p50: 1, p90: 2, p99: 4, average: 1, max: 9 },
  responses: 100_000,
  errors: 0,
  timeouts: 0,
  non2xx: 0,
  statusCodes: { '200': 100_000 },
  peakRssMB: 200,
  bytesPerResponse,
  cpuUsPerRequest: 40,
  cpuUserUsPerRequest: 30,
  ratios: { reqPerSec: ratio, p99: 4 },
});

/** The access check's goal as the goals list words it for this one measurement. */
const accessGoal = (access: Measurement) =>
  onPostgres({ scenarios: [access] }).find((g) => g.goal.startsWith('content access check'));

describe('the goals of the bench', () => {
  it('know which scenarios are held to a share of bare Fastify', () => {
    expect(hasRatioGoal(LIST)).toBe(true);
    expect(hasRatioGoal(ACCESS)).toBe(true);
    // its goal is a p99, not a share
    expect(hasRatioGoal('community/community reviews, 10,000 reviews, best first, uncached')).toBe(false);
    expect(
      hasRatioGoal('commerce/full checkouts (order → sandbox payment → pay → notification → paid)'),
    ).toBe(false);
  });

  it('give a goal the ceiling of its own answer when one was measured, else the headers alone', () => {
    const goals = onPostgres({
      scenarios: [measured(LIST, 0.29, 15_000), measured(ACCESS, 0.41, 1_400)],
      referenceRatio: 0.77,
      ceilings: { [LIST]: 0.48 },
    });
    const list = goals.find((g) => g.goal.startsWith('warm course list'));
    expect(list).toMatchObject({ met: false });
    expect(list?.measured).toBe("0.29× bare, p99 4 ms (bare + Lectern's headers sending this answer: 0.48×)");
    const access = goals.find((g) => g.goal.startsWith('content access check'));
    expect(access).toMatchObject({ met: true });
    expect(access?.measured).toBe("0.41× bare, p99 4 ms (bare + Lectern's headers alone: 0.77×)");
  });

  it('name the baselines measured right before and after a goal when its ratio is taken against them', () => {
    const access = { ...measured(ACCESS, 0.4, 1_400), besideBaseline: { before: 48_960, after: 51_240 } };
    const goal = accessGoal(access);
    expect(goal).toMatchObject({ met: true });
    expect(goal?.measured).toBe('0.40× bare (bare right before / after it: 49.0k / 51.2k req/s), p99 4 ms');
  });

  it('judge a goal measured in rounds by its median round, each round against the faster of its baselines', () => {
    const at = (reqPerSec: number) => ({ reqPerSec });
    // the shared baselines: round 2's "before" is round 1's "after"
    const [b0, b1, b2, b3] = [at(50_000), at(40_000), at(60_000), at(50_000)];
    const rounds = [
      { scenario: at(22_000), before: b0, after: b1 }, // 0.44
      { scenario: at(18_000), before: b1, after: b2 }, // 0.30: a slow stretch, or a fast baseline
      { scenario: at(20_500), before: b2, after: b3 }, // 0.34
    ];
    expect(rounds.map((r) => roundRatio(r).toFixed(2))).toEqual(['0.44', '0.30', '0.34']);
    expect(medianRound(rounds)).toBe(rounds[2]);
    // an even count takes the lower of the two middle rounds
    expect(medianRound(rounds.slice(0, 2))).toBe(rounds[1]);
    expect(medianRound(rounds.slice(0, 1))).toBe(rounds[0]);
    expect(() => medianRound([])).toThrow();
  });

  it('print every round of a goal measured in rounds', () => {
    const access = {
      ...measured(ACCESS, 0.42, 1_400),
      besideBaseline: { before: 48_960, after: 51_240 },
      roundRatios: [0.45, 0.38, 0.42],
    };
    const goal = accessGoal(access);
    expect(goal?.measured).toBe(
      '0.42× bare (bare right before / after it: 49.0k / 51.2k req/s; the median of 3 rounds: 0.45×, 0.38×, 0.42×), p99 4 ms',
    );
  });

  it('judge progress writes and checkouts against pgbench measured beside them when it was', () => {
    const PROGRESS = 'learning/progress writes (PUT /lessons/:id/progress)';
    expect(hasPgbenchGoal(PROGRESS)).toBe(true);
    expect(hasPgbenchGoal(CHECKOUTS)).toBe(true);
    expect(hasPgbenchGoal(ACCESS)).toBe(false);
    const progress = { ...measured(PROGRESS, 0, 1_300), reqPerSec: 1_200 };
    const checkouts = { ...measured(CHECKOUTS, 0, 1_400), reqPerSec: 300, checkoutsPerSec: 100 };
    const goals = onPostgres({
      scenarios: [progress, checkouts],
      // the run's start was fast; beside the progress writes the machine was slower
      pgbenchTps: 3_000,
      pgbenchBeside: { [PROGRESS]: { before: 2_100, after: 2_300 } },
    });
    const progressGoal = goals.find((g) => g.goal.startsWith('progress writes'));
    expect(progressGoal).toMatchObject({ met: true });
    expect(progressGoal?.measured).toBe(
      '1200 writes/s vs 2300 tps (pgbench right before / after it: 2100 / 2300) = 0.52×',
    );
    // without its own, the run's
    expect(goals.find((g) => g.goal.startsWith('full checkouts'))?.measured).toBe(
      '100.0 checkouts/s vs 3000 tps = 0.03×',
    );
  });

  it('print the floor row beside the goals PostgreSQL decides, and judge them by their own figures', () => {
    const REVIEWS =
      'community/community reviews, 10,000 reviews, best first, uncached (signed-in reader, every page)';
    const checkouts = { ...measured(CHECKOUTS, 0, 1_400), reqPerSec: 600, checkoutsPerSec: 200 };
    const reviews = {
      ...measured(REVIEWS, 0.07, 9_300),
      latencyMs: { p50: 12, p90: 20, p99: 45, average: 13, max: 90 },
    };
    const checkoutFloor = { ...measured('floor: checkout', 0, 200), reqPerSec: 2_400, checkoutsPerSec: 800 };
    const reviewsFloor = {
      ...measured('floor: reviews', 0.09, 8_700),
      reqPerSec: 4_406,
      latencyMs: { p50: 10, p90: 14, p99: 19, average: 10, max: 40 },
    };
    const goals = onPostgres({
      scenarios: [checkouts, reviews],
      pgbenchTps: 2_000,
      floors: { [CHECKOUTS]: checkoutFloor, [REVIEWS]: reviewsFloor },
    });
    const checkoutGoal = goals.find((g) => g.goal.startsWith('full checkouts'));
    // a floor above the goal does not meet it for the route
    expect(checkoutGoal).toMatchObject({ met: false });
    expect(checkoutGoal?.measured).toBe(
      '200.0 checkouts/s vs 2000 tps = 0.10× (bare Fastify + pg doing the least of a checkout: 800 checkouts/s = 0.40×)',
    );
    const reviewsGoal = goals.find((g) => g.goal.includes('uncached'));
    expect(reviewsGoal).toMatchObject({ met: false });
    expect(reviewsGoal?.measured).toBe(
      '0.07× bare, p99 45 ms (bare Fastify + pg running its statement: p99 19 ms at 4406 req/s)',
    );
  });
});
