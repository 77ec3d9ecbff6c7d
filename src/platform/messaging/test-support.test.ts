import { describe, expect, it } from 'vitest';
import { waitFor } from './test-support.js';

describe('waitFor', () => {
  it('resolves once the condition holds', async () => {
    let checks = 0;
    await waitFor(() => ++checks === 3, 'the third check');
    expect(checks).toBe(3);
  });

  it('fails with what it waited for when the condition never holds', async () => {
    await expect(waitFor(() => false, 'a thing that never happens', 100)).rejects.toThrow(
      /waiting for a thing that never happens/,
    );
  });
});
