import type { Clock } from '../core/ports.js';
import type { PartitionOffset, RecordFound } from '../core/record-time.js';

export interface RecordTimeCacheLimits {
  /** How long an answer is kept. The record at an offset never changes; compaction may remove it later, and the TTL bounds memory. */
  ttlMs: number;
  /** At most this many answers; the oldest go first. */
  maxEntries: number;
}

export const DEFAULT_CACHE_LIMITS: RecordTimeCacheLimits = { ttlMs: 10 * 60_000, maxEntries: 10_000 };

const keyOf = (ask: PartitionOffset): string => `${ask.topic}\u0000${ask.partition}\u0000${ask.offset}`;

/**
 * Records found, by (topic, partition, offset asked). Only records are kept: "at the log
 * end" or "leader down" change with the next produce or election, a record does not.
 * A Map keeps insertion order, so the first entry is always the oldest.
 */
export class RecordTimeCache {
  private readonly entries = new Map<string, { record: RecordFound; at: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: RecordTimeCacheLimits = DEFAULT_CACHE_LIMITS,
  ) {}

  get(ask: PartitionOffset): RecordFound | undefined {
    const key = keyOf(ask);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.clock.now() - entry.at >= this.limits.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.record;
  }

  set(ask: PartitionOffset, record: RecordFound): void {
    const key = keyOf(ask);
    this.entries.delete(key);
    this.entries.set(key, { record, at: this.clock.now() });
    this.evict();
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.limits.maxEntries && now - entry.at < this.limits.ttlMs) break;
      this.entries.delete(key);
    }
  }
}
