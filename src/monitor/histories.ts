import type { AlertingPolicy } from '../config/alerting.js';
import { appendSampleInPlace, recordOf, sampleFrom, sampleOf, type GroupSample } from '../core/history.js';
import type { StoredSample } from '../core/ports.js';
import { groupKey, type GroupLag, type GroupRef } from '../core/protocol.js';
import { evaluate, type Evaluation } from '../core/rules.js';
import { estimateStaleness } from '../core/staleness.js';
import { NO_BROKER_TIMES, timesLookup, type BrokerTimes } from '../core/broker-times.js';

/** The history window of every watched group, and the rules evaluated over it. */
export class GroupHistories {
  private readonly histories = new Map<string, { ref: GroupRef; samples: GroupSample[] }>();

  constructor(private readonly policy: AlertingPolicy) {}

  /** Add this read to the group's history and evaluate the group's rules over it. `afterGap`: checks were missed since the last one. */
  observe(lag: GroupLag, afterGap = false, times: BrokerTimes = NO_BROKER_TIMES): Evaluation {
    const key = groupKey(lag);
    let entry = this.histories.get(key);
    if (!entry) this.histories.set(key, (entry = { ref: { cluster: lag.cluster, group: lag.group }, samples: [] }));
    const history = entry.samples;
    const rules = this.policy.forGroup(lag).rules;
    // Staleness from the history before this read: the read's own log end is the newest point.
    const idle = estimateStaleness(lag, history, rules.staleness, timesLookup(times));
    appendSampleInPlace(history, sampleOf(lag, history[history.length - 1], afterGap), this.policy.historyMs);
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

  /** Take back the samples a previous process stored (oldest first within each group). */
  restore(cluster: string, stored: readonly StoredSample[]): void {
    for (const { group, record } of stored) {
      const key = groupKey({ cluster, group });
      const entry = this.histories.get(key) ?? { ref: { cluster, group }, samples: [] };
      entry.samples.push(sampleFrom(record, entry.samples.at(-1)));
      this.histories.set(key, entry);
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
