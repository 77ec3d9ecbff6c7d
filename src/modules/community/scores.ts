/**
 * The two ranking numbers of the module (reasons and the chosen constants in CONTEXT.md).
 */

/** z for a 95 % confidence interval: the usual choice for "best" orders (Evan Miller). */
export const WILSON_Z = 1.96;

/**
 * Lower bound of the Wilson score interval of the share of helpful votes: a review with 9 of 10
 * helpful ranks above one with 1 of 1, because one vote says little. 0 without votes.
 */
export function wilsonLowerBound(up: number, down: number, z = WILSON_Z): number {
  const n = up + down;
  if (n === 0) return 0;
  const p = up / n;
  const z2 = z * z;
  return (p + z2 / (2 * n) - z * Math.sqrt((p * (1 - p) + z2 / (4 * n)) / n)) / (1 + z2 / n);
}

export interface Prior {
  /** m: the rating assumed before any review. */
  mean: number;
  /** C: how many reviews the prior weighs as. */
  weight: number;
}

/** Bayesian average (C·m + Σ ratings) / (C + n): few reviews stay near m, many speak for themselves. */
export function bayesianAverage(count: number, sum: number, prior: Prior): number {
  if (prior.weight + count === 0) return prior.mean;
  return (prior.weight * prior.mean + sum) / (prior.weight + count);
}
