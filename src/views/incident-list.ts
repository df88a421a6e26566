import type { Incident, Severity } from '../core/protocol.js';
import { formatCount, formatDuration, formatUtc } from './format.js';
import { renderTable } from './table.js';

/**
 * `lagbot incident list`: the incidents the store holds, as a table and as JSON. The JSON
 * field names are a stable interface (README), only ever added to.
 */

export interface IncidentJson {
  id: string;
  cluster: string;
  group: string;
  channel: string;
  status: Incident['status'];
  /** The severity now (open) or when it resolved. */
  severity: Severity;
  peakSeverity: Severity;
  peakLag: number;
  peakLagAt: string;
  /** The largest staleness seen, in seconds; null when never measured. */
  peakLagSeconds: number | null;
  openedAt: string;
  resolvedAt: string | null;
  /** Opened to resolved, or to now while open. */
  durationMs: number;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  resolvedBy: string | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

const endOf = (incident: Incident, now: number): number => incident.resolved?.at ?? now;

export function incidentJson(incident: Incident, now: number): IncidentJson {
  return {
    id: incident.id,
    cluster: incident.cluster,
    group: incident.group,
    channel: incident.channel,
    status: incident.status,
    severity: incident.severity,
    peakSeverity: incident.peakSeverity,
    peakLag: incident.peakLag,
    peakLagAt: iso(incident.peakLagAt),
    peakLagSeconds: incident.peakLagSeconds ?? null,
    openedAt: iso(incident.openedAt),
    resolvedAt: incident.resolved ? iso(incident.resolved.at) : null,
    durationMs: Math.max(0, endOf(incident, now) - incident.openedAt),
    acknowledgedBy: incident.acknowledged?.by ?? null,
    acknowledgedAt: incident.acknowledged ? iso(incident.acknowledged.at) : null,
    resolvedBy: incident.resolved?.by ?? null,
  };
}

/** Severity now, and the peak when it was higher: `WARNING (peak PAGE)`. */
function severityText(incident: Incident): string {
  const now = incident.severity.toUpperCase();
  return incident.peakSeverity === incident.severity ? now : `${now} (peak ${incident.peakSeverity.toUpperCase()})`;
}

export function incidentListText(incidents: readonly Incident[], now: number): string {
  if (incidents.length === 0) return 'No incidents (open, or resolved in the period asked). lagbot incident list --all shows every one.';
  return renderTable(
    [
      { header: 'ID', align: 'left' },
      { header: 'CLUSTER', align: 'left' },
      { header: 'GROUP', align: 'left' },
      { header: 'STATUS', align: 'left' },
      { header: 'SEVERITY', align: 'left' },
      { header: 'PEAK-LAG', align: 'right' },
      { header: 'OPENED', align: 'left' },
      { header: 'DURATION', align: 'right' },
      { header: 'ACKNOWLEDGED-BY', align: 'left' },
    ],
    incidents.map((i) => [
      i.id,
      i.cluster,
      i.group,
      i.status,
      severityText(i),
      formatCount(i.peakLag),
      formatUtc(i.openedAt),
      `${formatDuration(endOf(i, now) - i.openedAt)}${i.status === 'open' ? ' so far' : ''}`,
      i.acknowledged?.by ?? '-',
    ]),
  ).join('\n');
}
