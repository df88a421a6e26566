/**
 * Memory for the history's blocks, carved in order out of slabs of 256 KB instead of one
 * allocation each. A block lives for the hour of its samples and a check's own buffers for
 * milliseconds; given to malloc one by one, thousands of small long-lived blocks sat between
 * the short-lived buffers and pinned the holes those left in glibc's heap (13 MB of free
 * chunks it could not return at 1,000 groups, BENCHMARKS.md). A slab is above glibc's mmap
 * threshold, so it is mapped on its own and unmapped whole. Blocks carved one after another
 * are made by the same checks and leave the window together, so a slab is freed soon after
 * its last block; one long-lived block holds at most one slab.
 */

const SLAB_BYTES = 256 * 1024;
/** A block larger than this (a whole cluster's log ends) gets memory of its own. */
const LARGEST_CARVED = SLAB_BYTES / 8;

let slab: ArrayBuffer | null = null;
let used = 0;

/** `bytes` of zeroed memory, 8-byte aligned at `offset` of `buffer`. */
export function blockMemory(bytes: number): { buffer: ArrayBuffer; offset: number } {
  if (bytes > LARGEST_CARVED) return { buffer: new ArrayBuffer(bytes), offset: 0 };
  const size = Math.ceil(bytes / 8) * 8;
  if (!slab || used + size > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const offset = used;
  used += size;
  return { buffer: slab, offset };
}
