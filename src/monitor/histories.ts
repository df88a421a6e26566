import type { AlertingPolicy } from '../config/alerting.js';
import { appendSampleInPlace, LogEnds, recordOf, sampleFrom, sampleOf, splitKey, type GroupSample } from '../core/history.js';
import type { StoredSample } from '../core/ports.js';
import { groupKey, type GroupLag, type GroupRef } from '../core/protocol.js';
import { evaluate, type Evaluation } from '../core/rules.js';
import { estimateStaleness } from '../core/staleness.js';
import { NO_BROKER_TIMES, timesLookup, type BrokerTimes } from '../core/broker-times.js';

/** The history window of every watched group, and the rules evaluated over it. */
export class GroupHistories {
  private readonly histories = new Map<string, { ref: GroupRef; samples: GroupSample[] }>();
  /** Each cluster's log ends, held once for all the groups of a check that read a partition. */
  private readonly logEnds = new Map<string, LogEnds>();

  constructor(private readonly policy: AlertingPolicy) {}

  /**
   * A check's reads, before each is observed: their log ends are kept once per cluster and
   * partition, and the samples refer to them. Per cluster, the reads of its first read's time
   * (a check reads a cluster at one time); a read not recorded keeps its own log ends.
   */
  record(groups: readonly GroupLag[]): void {
    const byCluster = new Map<string, GroupLag[]>();
    for (const lag of groups) {
      const reads = byCluster.get(lag.cluster);
      if (!reads) byCluster.set(lag.cluster, [lag]);
      else if (lag.readAt === (reads[0] as GroupLag).readAt) reads.push(lag);
    }
    for (const [cluster, reads] of byCluster) {
      let ends = this.logEnds.get(cluster);
      if (!ends) this.logEnds.set(cluster, (ends = new LogEnds()));
      ends.record((reads[0] as GroupLag).readAt, reads);
    }
  }

  /** Add this read to the group's history and evaluate the group's rules over it. `afterGap`: checks were missed since the last one. */
  observe(lag: GroupLag, afterGap = false, times: BrokerTimes = NO_BROKER_TIMES): Evaluation {
    const key = groupKey(lag);
    let entry = this.histories.get(key);
    if (!entry) this.histories.set(key, (entry = { ref: { cluster: lag.cluster, group: lag.group }, samples: [] }));
    const history = entry.samples;
    const rules = this.policy.forGroup(lag).rules;
    // Staleness from the history before this read: the read's own log end is the newest point.
    const idle = estimateStaleness(lag, history, rules.staleness, timesLookup(times));
    appendSampleInPlace(history, sampleOf(lag, history[history.length - 1], afterGap, this.logEnds.get(lag.cluster)), this.policy.historyMs);
    return evaluate(lag, history, rules, idle);
  }

  of(ref: GroupRef): readonly GroupSample[] {
    return this.histories.get(groupKey(ref))?.samples ?? [];
  }

  /** The newest sample of each of these groups, for the store. */
  newest(groups: readonly GroupLag[]): StoredSample[] {
    return groups.flatMap((g) => {
      const latest = this.histories.get(groupKey(g))?.samples.at(-1);
      return latest ? [{ group: g.group, record: recordOf(latest) }] : [];
    });
  }

  /**
   * Take in samples the store holds (oldest first within each group): at start, those a
   * previous process kept; on a standby, those the leader stored since the last look. Time by
   * time, as the checks made them: each time's log ends are recorded for the cluster first, so
   * that the hour holds them once per partition as the checks did. Samples older than the
   * window are let go, and so are groups with none left. Returns the newest time taken in.
   */
  restore(cluster: string, stored: readonly StoredSample[]): number | null {
    let ends = this.logEnds.get(cluster);
    if (!ends) this.logEnds.set(cluster, (ends = new LogEnds()));
    // Stable: within one time, the groups in the store's order.
    const byTime = [...stored].sort((a, b) => a.record.at - b.record.at);
    let newest: number | null = null;
    for (let k = 0; k < byTime.length; ) {
      const at = (byTime[k] as StoredSample).record.at;
      let end = k;
      while (end < byTime.length && (byTime[end] as StoredSample).record.at === at) end += 1;
      const same = byTime.slice(k, end);
      ends.record(at, same.map(({ record }) => ({ partitions: record.keys.map((key, i) => ({ ...splitKey(key), logEndOffset: record.values[record.keys.length + i] as number })) })));
      for (const { group, record } of same) {
        const key = groupKey({ cluster, group });
        let entry = this.histories.get(key);
        if (!entry) this.histories.set(key, (entry = { ref: { cluster, group }, samples: [] }));
        appendSampleInPlace(entry.samples, sampleFrom(record, entry.samples.at(-1), ends), this.policy.historyMs);
      }
      newest = at;
      k = end;
    }
    if (newest !== null) this.forgetOlderThan(cluster, newest - this.policy.historyMs);
    return newest;
  }

  private forgetOlderThan(cluster: string, cutoff: number): void {
    for (const [key, { ref, samples }] of this.histories) {
      if (ref.cluster !== cluster) continue;
      let kept = 0;
      for (const s of samples) if (s.at >= cutoff) samples[kept++] = s;
      samples.length = kept;
      if (kept === 0) this.histories.delete(key);
    }
  }

  /** Forget the groups of `cluster` that were not read this time; returns them. */
  retain(cluster: string, present: readonly GroupLag[]): GroupRef[] {
    const keep = new Set(present.map(groupKey));
    const gone: GroupRef[] = [];
    for (const [key, { ref }] of this.histories) {
      if (ref.cluster !== cluster || keep.has(key)) continue;
      this.histories.delete(key);
      gone.push(ref);
    }
    return gone;
  }
}
