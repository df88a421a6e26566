/** Messages between the benchmark and the lagbot process it measures (Node IPC). */

import type { ReadPath } from './options.js';

export type ProbeRequest =
  | {
      kind: 'init';
      brokers: string[];
      slackApiUrl: string;
      signingSecret: string;
      botToken: string;
      readPath: ReadPath;
      storePath: string;
      /** Groups the checks watch (history is kept for these only); all when absent. */
      watch?: string[];
      /** false: no Prometheus metrics (analysis of what they cost). */
      metrics: boolean;
    }
  | { kind: 'cycles'; count: number; advanceMs: number }
  | { kind: 'fill-history'; samples: number; intervalMs: number; step: number }
  | { kind: 'memory' }
  | { kind: 'totals' }
  | { kind: 'profile-start' }
  | { kind: 'profile-stop'; file: string }
  | { kind: 'heap-snapshot'; file: string }
  | { kind: 'stop' };

export interface CycleResult {
  ok: boolean;
  error?: string;
  /** LagMonitor.check(): the Kafka read, history, rules, incidents store, metrics. */
  durationMs: number;
  /** The Kafka read alone (readAllGroups). */
  readMs: number;
  groups: number;
  /** Requests answered during the cycle, by API name. */
  requests: Record<string, number>;
  totalRequests: number;
  responseBytes: number;
  /** Longest round trip of each API in the cycle (sent to answered, as kafkajs times it). */
  slowestMs: Record<string, number>;
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
  readPath: 'batched' | 'admin-api';
}

export interface FillResult {
  ms: number;
  groups: number;
  /** Partition rows in one read (sum over groups). */
  partitionRows: number;
  samplesAdded: number;
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
