import type { BenchScenario } from '../../platform/module.js';
export function communityBench(_deps: unknown): BenchScenario[] {
  return [];
}
