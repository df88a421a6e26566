import type { AlertingPolicy } from '../config/alerting.js';
import { appendSample, sampleOf, type GroupSample } from '../core/history.js';
import type { GroupLag } from '../core/protocol.js';
import { evaluate, type Evaluation } from '../core/rules.js';

/** The history window of every watched group, and the rules evaluated over it. */
export class GroupHistories {
  private readonly histories = new Map<string, GroupSample[]>();

  constructor(private readonly policy: AlertingPolicy) {}

  /** Add this read to the group's history and evaluate the group's rules over it. */
  observe(lag: GroupLag): Evaluation {
    const previous = this.histories.get(lag.group) ?? [];
    const history = appendSample(previous, sampleOf(lag, previous[previous.length - 1]), this.policy.historyMs);
    this.histories.set(lag.group, history);
    return evaluate(lag, history, this.policy.forGroup(lag.group).rules);
  }

  /** Forget groups that no longer exist; returns their names. */
  retain(present: ReadonlySet<string>): string[] {
    const gone = [...this.histories.keys()].filter((g) => !present.has(g));
    for (const g of gone) this.histories.delete(g);
    return gone;
  }

  /** Samples held, for memory accounting in benchmarks. */
  get sampleCount(): number {
    let n = 0;
    for (const h of this.histories.values()) n += h.length;
    return n;
  }
}
