import { readFileSync } from 'node:fs';
import { percentile } from './stats.js';

/** Resident memory of a process as it runs: samples, not one reading after a forced collection. */
export interface LiveRss {
  samples: number;
  seconds: number;
  minMB: number;
  medianMB: number;
  p95MB: number;
  maxMB: number;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** VmRSS of a process in bytes, from /proc (Linux); null where there is none. */
export function rssOf(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

/** VmHWM (the highest RSS so far) of a process in bytes, from /proc; null where there is none. */
export function peakRssOf(pid: number): number | null {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Reads another process's VmRSS every `everyMs` from outside it (the measured process does
 * nothing for it), between start() and stop().
 */
export class RssSampler {
  private readonly samples: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;

  constructor(
    private readonly pid: number,
    private readonly everyMs = 200,
  ) {}

  start(): this {
    this.startedAt = Date.now();
    const take = () => {
      const rss = rssOf(this.pid);
      if (rss !== null) this.samples.push(rss);
    };
    take();
    this.timer = setInterval(take, this.everyMs);
    return this;
  }

  /** The figures, or null where /proc cannot be read. */
  stop(): LiveRss | null {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const last = rssOf(this.pid);
    if (last !== null) this.samples.push(last);
    if (this.samples.length === 0) return null;
    const sorted = this.samples.map((b) => b / (1024 * 1024)).sort((a, b) => a - b);
    return {
      samples: sorted.length,
      seconds: round1((Date.now() - this.startedAt) / 1000),
      minMB: round1(sorted[0] as number),
      medianMB: round1(percentile(sorted, 0.5)),
      p95MB: round1(percentile(sorted, 0.95)),
      maxMB: round1(sorted[sorted.length - 1] as number),
    };
  }
}
