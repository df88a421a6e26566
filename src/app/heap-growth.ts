import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived its last full collection
 * before it collects again. V8 picks a factor of up to 4 when its collections are fast next
 * to the program, which suits a browser tab. lagbot is the opposite case. What it keeps (an
 * hour of history, the metrics' series) is steady, and each check leaves a burst of garbage
 * that lives long enough to be promoted. With V8's factor the heap grows to several times what
 * is live between full collections: at 1,000 groups / 10,000 partitions about 200 MB of heap
 * pages for 50 MB kept. 25 % measured lowest of 50 and 25 with the cycle still under the Java
 * reference's (BENCHMARKS.md, "Live RSS under 200 MB", 2 December); 15 % then took 7 MB off
 * the live maximum for about 5 % of the cycle ("Garbage and slabs", 3 December).
 */
export const HEAP_GROWING_PERCENT = 15;

const FLAG = '--heap-growing-percent';

/**
 * Set lagbot's heap growth for a long-running `lagbot start`, unless the operator set it
 * (NODE_OPTIONS or node's own flags). V8 reads this flag each time a full collection sets the
 * next limit, so it takes effect when set at run time, unlike the semi-space size.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): boolean {
  const chosen = (flags: string): boolean => flags.split(/\s+/).some((f) => f === FLAG || f.startsWith(`${FLAG}=`) || f === '--heap_growing_percent' || f.startsWith('--heap_growing_percent='));
  if (chosen(execArgv.join(' ')) || chosen(nodeOptions ?? '')) return false;
  setFlagsFromString(`${FLAG}=${HEAP_GROWING_PERCENT}`);
  return true;
}
