import type { BenchScenario } from '../../platform/module.js';

/** `npm run bench` scenarios of notify (HTTP): see bench/notify-throughput.ts for event throughput. */
export const notifyBench: BenchScenario[] = [];
