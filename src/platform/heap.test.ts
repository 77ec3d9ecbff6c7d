import { describe, expect, it } from 'vitest';
import { limitHeapGrowth } from './heap.js';

describe('limitHeapGrowth', () => {
  it('leaves a value given on the command line alone, in either spelling', () => {
    expect(limitHeapGrowth(50, ['--heap-growing-percent=80'])).toBe(false);
    expect(limitHeapGrowth(50, ['--enable-source-maps', '--heap_growing_percent=80'])).toBe(false);
    expect(limitHeapGrowth(50, [], '--enable-source-maps --heap-growing-percent=80')).toBe(false);
  });

  it('sets it otherwise, whatever other flags the process has', () => {
    expect(limitHeapGrowth(50, ['--max-semi-space-size=4', '--heap-prof'])).toBe(true);
    expect(limitHeapGrowth(50, [], '')).toBe(true);
    expect(limitHeapGrowth(50, [], '--max-old-space-size=512')).toBe(true);
  });
});
