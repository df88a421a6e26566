import type { ChartThreshold } from '../core/chart.js';
import type { Step, TimelineEntry } from '../core/incident.js';
import type { MonitoringChange } from '../core/monitoring.js';
import type { Incident } from '../core/protocol.js';

/**
 * What a check or a click decided should reach people, as plain data. The monitor
 * renders nothing: the composition root turns these into Slack messages for the outbox.
 */
export type MonitorEffect =
  /** An incident changed: its timeline entries, and its root message posted or edited. */
  | { kind: 'incident'; step: Step; thresholds?: readonly ChartThreshold[] }
  /** lagbot lost or regained sight of a cluster. */
  | { kind: 'monitoring'; cluster: string; channel: string; change: MonitoringChange }
  /** A postmortem draft of the incident, from its whole timeline, as of `at`: on resolve, or asked for. */
  | { kind: 'postmortem'; incident: Incident; timeline: readonly TimelineEntry[]; at: number };
