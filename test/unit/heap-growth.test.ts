import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, limitHeapGrowth } from '../../src/app/heap-growth.js';

describe('limitHeapGrowth', () => {
  it('sets lagbot’s heap growth when the operator has not chosen one', () => {
    expect(HEAP_GROWING_PERCENT).toBeGreaterThan(0);
    expect(limitHeapGrowth([], undefined)).toBe(true);
    expect(limitHeapGrowth(['--enable-source-maps'], '--max-old-space-size=512')).toBe(true);
  });

  it('leaves a growth given on node’s command line or in NODE_OPTIONS alone', () => {
    expect(limitHeapGrowth(['--heap-growing-percent=100'], undefined)).toBe(false);
    expect(limitHeapGrowth(['--heap_growing_percent=100'], undefined)).toBe(false);
    expect(limitHeapGrowth([], '--max-semi-space-size=8 --heap-growing-percent=20')).toBe(false);
  });

  it('is not fooled by a flag that only starts the same way', () => {
    expect(limitHeapGrowth(['--heap-growing-percentage-log'], '')).toBe(true);
  });
});
