import { describe, expect, it } from 'vitest';
import { blockMemory } from '../../src/core/block-memory.js';

describe('block memory', () => {
  it('carves zeroed, 8-byte aligned pieces that never overlap, in order out of one slab', () => {
    const pieces = [13, 8, 1, 200, 4_096, 7].map((bytes) => ({ bytes, ...blockMemory(bytes) }));
    for (const p of pieces) {
      expect(p.offset % 8).toBe(0);
      expect([...new Uint8Array(p.buffer, p.offset, p.bytes)].every((b) => b === 0)).toBe(true);
      new Uint8Array(p.buffer, p.offset, p.bytes).fill(0xff);
    }
    // Each piece starts past the end of the one before it, where they share a slab.
    for (let i = 1; i < pieces.length; i += 1) {
      const [a, b] = [pieces[i - 1], pieces[i]] as [(typeof pieces)[number], (typeof pieces)[number]];
      if (a.buffer === b.buffer) expect(b.offset).toBeGreaterThanOrEqual(a.offset + a.bytes);
    }
    expect(new Set(pieces.map((p) => p.buffer)).size).toBeLessThanOrEqual(2);
  });

  it('starts a new slab when a piece does not fit, and gives a large block memory of its own', () => {
    const first = blockMemory(30_000);
    let next = blockMemory(30_000);
    while (next.buffer === first.buffer) next = blockMemory(30_000);
    expect(next.offset).toBe(0);
    const large = blockMemory(1_000_000);
    expect(large.offset).toBe(0);
    expect(large.buffer.byteLength).toBe(1_000_000);
  });
});
