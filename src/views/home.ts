import type { HomeView, KnownBlock } from '@slack/types';
import type { GroupStanding, HomeCluster, HomeSummary } from '../core/home.js';
import type { Incident, LagSecondsMethod } from '../core/protocol.js';
import { truncate } from '../core/slack-escape.js';
import { LIMITS, context, divider, header, section } from './blocks.js';
import { formatClock, formatCount, formatDuration } from './format.js';
import { SEVERITY_ICON } from './incident-message.js';
import { silenceLine } from './silence-text.js';
import { isNamed, slackText } from './text-style.js';

/** Shown where staleness is not known (not estimated yet, or no history to estimate from). */
export const UNKNOWN_STALENESS = '—';

export function stalenessText(seconds: number | null | undefined, method: LagSecondsMethod | null | undefined): string {
  if (seconds === null || seconds === undefined) return UNKNOWN_STALENESS;
  return `${formatDuration(seconds * 1000)}${method ? ` (${method})` : ''}`;
}

function incidentLine(incident: Incident): string {
  const f = incident.figures;
  return slackText((s) => {
    const ack = incident.acknowledged ? `acknowledged by ${s.user(incident.acknowledged.by)}` : 'not acknowledged';
    const snooze = incident.snoozed ? ` · snoozed by ${s.user(incident.snoozed.by)} until ${formatClock(incident.snoozed.until)}` : '';
    return `${incident.severity.toUpperCase()} ${s.name(incident.group)} · lag ${formatCount(f.totalLag)} · staleness ${stalenessText(f.lagSeconds, f.lagSecondsMethod)} · ${ack}${snooze} · open since ${formatClock(incident.openedAt)}`;
  });
}

function standingLine(g: GroupStanding, rank: number): string {
  return slackText((s) => `${rank}. ${s.name(g.group)} · staleness ${stalenessText(g.lagSeconds, g.lagSecondsMethod)} · lag ${formatCount(g.totalLag)}`);
}

/**
 * Lines packed into as few sections as the text limit allows, using at most `maxBlocks`
 * of them; the lines that do not fit are counted in a last "and N more" line.
 */
function packedSections(title: string, lines: readonly string[], maxBlocks: number, more: (n: number) => string): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  let text = title;
  let shown = 0;
  const room = LIMITS.sectionText - 60; // the "and N more" line always fits after the last section
  for (const line of lines) {
    const next = `${text}\n${line}`;
    if (next.length <= room) {
      text = next;
      shown += 1;
      continue;
    }
    if (blocks.length + 1 >= maxBlocks) break;
    blocks.push(section(text));
    text = truncate(line, room);
    shown += 1;
  }
  const left = lines.length - shown;
  blocks.push(section(left > 0 ? `${text}\n${more(left)}` : text));
  return blocks;
}

/** Blocks of one cluster within `budget` blocks (at least 3). */
function clusterBlocks(c: HomeCluster, named: boolean, budget: number, at: number): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  if (named) blocks.push(header(`Cluster ${c.cluster}`));
  const incidents = c.incidents.map((i) => `${SEVERITY_ICON[i.severity]} ${incidentLine(i)}`);
  const stalestBlocks = 1;
  if (incidents.length === 0) blocks.push(section(':white_check_mark: *No open incidents*'));
  else {
    const room = Math.max(1, budget - blocks.length - stalestBlocks - (c.silences.length > 0 ? 1 : 0));
    blocks.push(...packedSections(`*Open incidents (${incidents.length})*`, incidents, room, (n) => `…and ${formatCount(n)} more open incidents`));
  }
  if (c.silences.length > 0) {
    const lines = c.silences.map((silence) => slackText((s) => `:no_bell: ${silenceLine(silence, at, s)}`));
    blocks.push(...packedSections(`*Silenced (${c.silences.length})*`, lines, 1, (n) => `…and ${formatCount(n)} more: \`/lag silences\``));
  }
  if (c.groups === null) blocks.push(context('Groups: not read yet (the first check has not run).'));
  else if (c.stalest.length === 0) blocks.push(context('No watched groups at the latest check.'));
  else {
    const lines = c.stalest.map((g, i) => standingLine(g, i + 1));
    const title = `*Most stale of ${formatCount(c.groups)} ${c.groups === 1 ? 'group' : 'groups'}*`;
    blocks.push(...packedSections(title, lines, 1, (n) => `…and ${formatCount(n)} more`));
  }
  return blocks;
}

/**
 * The Home tab: per cluster, its open incidents and its stalest groups. Within Slack's 100
 * blocks for a Home view; what does not fit is counted, never silently dropped.
 */
export function homeView(summary: HomeSummary): HomeView {
  const named = summary.clusters.length > 1 || summary.clusters.some((c) => isNamed(c.cluster));
  const blocks: KnownBlock[] = [header('Kafka consumer lag'), context(`Updated ${formatClock(summary.at)} · staleness is how far behind the group's view of the log is`)];
  const reserve = 1; // for "N more clusters"
  let left = 0;
  for (const [index, c] of summary.clusters.entries()) {
    const budget = LIMITS.blocksPerHomeView - blocks.length - reserve - 1; // - the divider
    if (budget < 4) {
      left = summary.clusters.length - index;
      break;
    }
    if (index > 0) blocks.push(divider);
    blocks.push(...clusterBlocks(c, named, budget, summary.at));
  }
  if (left > 0) {
    const names = summary.clusters.slice(summary.clusters.length - left).map((c) => c.cluster);
    blocks.push(context(slackText((s) => `…and ${left} more ${left === 1 ? 'cluster' : 'clusters'}: ${names.map((n) => s.name(n)).join(', ')}`)));
  }
  return { type: 'home', blocks };
}
