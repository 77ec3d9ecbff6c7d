import { describe, expect, it } from 'vitest';
import { limitHeapGrowth, stopPretenuring } from './heap.js';

describe('limitHeapGrowth', () => {
  it('leaves a value given on the command line alone, in either spelling', () => {
    expect(limitHeapGrowth(50, ['--heap-growing-percent=80'])).toBe(false);
    expect(limitHeapGrowth(50, ['--enable-source-maps', '--heap_growing_percent=80'])).toBe(false);
  });

  it('sets it otherwise, whatever other flags the process has', () => {
    expect(limitHeapGrowth(50, ['--max-semi-space-size=4', '--heap-prof'])).toBe(true);
    expect(limitHeapGrowth(50, [])).toBe(true);
  });
});

describe('stopPretenuring', () => {
  it('leaves a choice made on the command line alone, either way and in either spelling', () => {
    expect(stopPretenuring(['--allocation-site-pretenuring'])).toBe(false);
    expect(stopPretenuring(['--no-allocation_site_pretenuring'])).toBe(false);
    expect(stopPretenuring(['--enable-source-maps', '--no-allocation-site-pretenuring'])).toBe(false);
  });

  it('turns it off otherwise, whatever other flags the process has', () => {
    expect(stopPretenuring(['--max-semi-space-size=8'])).toBe(true);
    expect(stopPretenuring([])).toBe(true);
  });
});
