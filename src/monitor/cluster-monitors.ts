import type { AccessAction, ActionTarget, Refusal } from '../core/access.js';
import type { IncidentStore } from '../core/ports.js';
import type { GroupSample } from '../core/history.js';
import type { GroupStanding } from '../core/home.js';
import type { Notice, Step } from '../core/incident.js';
import type { GroupRef } from '../core/protocol.js';
import type { CheckReport, IncidentAction, LagMonitor } from './monitor.js';

/** What an incident's buttons need: act on an incident by id, whichever cluster it is on, within the access rules. */
export interface IncidentActions {
  act(incidentId: string, user: string, action: IncidentAction): Promise<Step>;
  /** Why an action on the incident cannot happen now (resolved, unknown), before a form for it is opened. */
  refusal(incidentId: string): Promise<Notice | null>;
  /** Post the incident's postmortem draft into its thread; a notice when there is none to draft. */
  postmortem(incidentId: string): Promise<Notice | null>;
  /** The incident's group and channel, which the access rules decide on; null when there is no such incident. */
  target(incidentId: string): Promise<ActionTarget | null>;
  /** Tell the incident's thread that someone the access rules refused tried an action. */
  refused(incidentId: string, user: string, action: AccessAction, refusal: Refusal): Promise<void>;
}

/** One monitor per cluster, and a click routed to the monitor of its incident's cluster. */
export class ClusterMonitors implements IncidentActions {
  constructor(
    readonly byCluster: ReadonlyMap<string, LagMonitor>,
    private readonly store: Pick<IncidentStore, 'incident'>,
  ) {
    if (byCluster.size === 0) throw new Error('at least one cluster');
  }

  of(cluster: string): LagMonitor {
    const monitor = this.byCluster.get(cluster);
    if (!monitor) throw new Error(`no monitor for cluster "${cluster}"`);
    return monitor;
  }

  async act(incidentId: string, user: string, action: IncidentAction): Promise<Step> {
    return (await this.monitorOf(incidentId)).act(incidentId, user, action);
  }

  async postmortem(incidentId: string): Promise<Notice | null> {
    return (await this.monitorOf(incidentId)).postmortem(incidentId);
  }

  async refusal(incidentId: string): Promise<Notice | null> {
    return (await this.monitorOf(incidentId)).refusal(incidentId);
  }

  async target(incidentId: string): Promise<ActionTarget | null> {
    const incident = await this.store.incident(incidentId);
    return incident ? { cluster: incident.cluster, group: incident.group, channel: incident.channel } : null;
  }

  async refused(incidentId: string, user: string, action: AccessAction, refusal: Refusal): Promise<void> {
    await (await this.monitorOf(incidentId)).refused(incidentId, user, action, refusal);
  }

  /** The monitor of the incident's cluster; an unknown incident gets its "no such incident" answer from any monitor. */
  private async monitorOf(incidentId: string): Promise<LagMonitor> {
    const cluster = (await this.store.incident(incidentId))?.cluster;
    return (cluster !== undefined ? this.byCluster.get(cluster) : undefined) ?? (this.byCluster.values().next().value as LagMonitor);
  }

  /** A group's history as its cluster's monitor holds it; empty for a cluster without one. */
  historyOf(ref: GroupRef): readonly GroupSample[] {
    return this.byCluster.get(ref.cluster)?.historyOf(ref.group) ?? [];
  }

  /** A cluster's groups at its latest check (see LagMonitor.latestStandings); null when none yet. */
  standingsOf(cluster: string): readonly GroupStanding[] | null {
    return this.byCluster.get(cluster)?.latestStandings() ?? null;
  }

  /** Every cluster's check at once, for callers that drive checks themselves. */
  checkAll(): Promise<CheckReport[]> {
    return Promise.all([...this.byCluster.values()].map((m) => m.check()));
  }
}
