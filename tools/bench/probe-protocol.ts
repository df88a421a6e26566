/** Messages between the benchmark and the lagbot process it measures (Node IPC). */

import type { WireCounts } from './wire-counter.js';

export type ProbeRequest =
  | {
      kind: 'init';
      brokers: string[];
      slackApiUrl: string;
      signingSecret: string;
      botToken: string;
      storePath: string;
      /** Groups the checks watch (history is kept for these only); all when absent. */
      watch?: string[];
      /** Count requests on lagbot's side too (kafkajs socketFactory, wire-counter.ts). */
      countWire: boolean;
    }
  | { kind: 'cycles'; count: number; advanceMs: number }
  /** gc: two full collections first (the after-GC figure); otherwise the process as it is. */
  | { kind: 'memory'; gc: boolean }
  | { kind: 'totals' }
  | { kind: 'profile-start' }
  | { kind: 'profile-stop'; file: string }
  | { kind: 'heap-snapshot'; file: string }
  /** The sampling heap profiler, objects the collector already freed included: what a phase allocates. */
  | { kind: 'alloc-profile-start' }
  | { kind: 'alloc-profile-stop'; file: string }
  | { kind: 'stop' };

/** One check cycle, with what went over the wire during it (see wire-counter.ts). */
export interface CycleResult extends WireCounts {
  ok: boolean;
  error?: string;
  /** Whether the WireCounts were counted (lagbot-side counting on); zeros otherwise. */
  wire: boolean;
  /** LagMonitor.check(): the Kafka read, history, rules, incidents store, metrics. */
  durationMs: number;
  /** The Kafka read: from the start of the check until the read came back (the report's `at`). */
  readMs: number;
  groups: number;
  /** Partition rows of the groups checked (sum over groups): what one sample adds to history. */
  partitionRows: number;
}

export interface MemoryReading {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** Highest RSS of the process so far (VmHWM). */
  peakRssBytes: number;
}

export interface InitResult {
  port: number;
}

export interface TotalsResult {
  totals: Record<string, number | null>;
  partitions: Record<string, number>;
}

export type ProbeReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface ProbeEnvelope {
  id: number;
  request: ProbeRequest;
}
