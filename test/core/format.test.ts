import { describe, expect, it } from 'vitest';
import { formatCount, formatPerSecValue, formatRate } from '../../src/views/format.js';

const intl = new Intl.NumberFormat('en-US');

describe('number formatting', () => {
  it('groups whole numbers exactly as Intl en-US does, at every length and sign', () => {
    const values = [0, -0, 1, 9, 10, 99, 100, 999, 1_000, 9_999, 10_000, 123_456, 999_999, 1_000_000, 4_442_768, 2 ** 31, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER];
    for (let digits = 1; digits <= 16; digits += 1) values.push(Number('7'.repeat(digits)), 10 ** (digits - 1));
    for (const v of values) {
      expect(formatCount(v)).toBe(intl.format(v));
      expect(formatCount(-v)).toBe(intl.format(-v));
    }
  });

  it('leaves fractions and numbers beyond 2^53 to Intl', () => {
    for (const v of [0.5, 1234.5678, -98_765.4321, 2 ** 60, 1e21, Number.POSITIVE_INFINITY]) expect(formatCount(v)).toBe(intl.format(v));
  });

  it('formats unknowns and rates as the views print them', () => {
    expect(formatCount(null)).toBe('-');
    expect(formatCount(undefined)).toBe('-');
    expect(formatRate(1234.4)).toBe('+1,234/s');
    expect(formatRate(-80)).toBe('-80/s');
    expect(formatPerSecValue(14_200.2)).toBe('14,200');
    expect(formatPerSecValue(0.4)).toBe('0.4');
    expect(formatPerSecValue(Number.NaN)).toBe('-');
  });
});
