import type { KnownBlock } from '@slack/types';
import { ActionIds } from '../core/action-ids.js';
import { historyChart, sparkline, type LagPoint } from '../core/chart.js';
import { COMMAND_WORDS, LAG_USAGE } from '../core/command.js';
import type { Finding } from '../core/findings.js';
import type { ClusterGroups, ClusterProblem, FoundGroup, LagAnswer } from '../core/lag-query.js';
import { DEFAULT_CLUSTER, type GroupLag, type PartitionLag, type SlackMessage } from '../core/protocol.js';
import { codeSpan, escapeSlack, truncate } from '../core/slack-escape.js';
import { LIMITS, context, divider, fields, fittedTable, header, section } from './blocks.js';
import { FINDING_ICONS, findingText } from './finding-text.js';
import { formatCount, formatStaleness, formatUtc } from './format.js';
import { SHARE_GROUP_NOTE, epochsText, isLaglessShare, memberCountText, membersUnreadText, serverAssigned, typeText } from './group-type.js';
import { isNamed, mentionOf, onCluster, slackText } from './text-style.js';
import type { PartitionRates } from '../core/history.js';
import { LISTING_COLUMNS, RATE_COLUMNS, listingRow, memberTable, methodMark, rateCells, renderTable, type Column } from './table.js';

export type { SlackMessage };

export interface LagMessageOptions {
  /** The `/lag` text that produced this view, carried by the "post to channel" button. */
  commandText?: string;
  /** Set when the message is being posted to the channel, to credit who shared it. */
  sharedBy?: string;
  /** Rows of the partition table before it is cut (the section limit may cut earlier). */
  maxPartitionRows?: number;
  /** Rates per partition from the group's history: IN/S and OUT/S columns when given. */
  rates?: PartitionRates | null;
  /** The monitor's last hour of the group, drawn as a text sparkline under its figures. */
  history?: readonly LagPoint[];
}

/** `Last hour ▁▂▃▅▇ peak 120,000`: nothing until there are two samples. */
function sparklineBlocks(points: readonly LagPoint[] | undefined): KnownBlock[] {
  const line = points ? sparkline(points) : '';
  if (line === '' || !points) return [];
  const peak = Math.max(0, ...points.map((p) => p.lag ?? 0));
  return [context(`Last hour \`${line}\` peak ${formatCount(peak)} · \`/lag GROUP chart\` for the picture`)];
}

const SLACK_PARTITION_COLUMNS: Column[] = [
  { header: 'PARTITION', align: 'left' },
  { header: 'LAG', align: 'right' },
  { header: 'STALE', align: 'right' },
  { header: 'COMMITTED', align: 'right' },
  { header: 'LOG-END', align: 'right' },
  { header: 'OWNER', align: 'left' },
];

/** Narrower than the terminal table: Slack code blocks wrap at about 90 characters. */
function slackPartitionRow(p: PartitionLag): string[] {
  // Client id and host, as the case study's table reads; the long member ids are in the members table.
  const owner = p.memberId === null ? '-' : `${truncate(p.clientId ?? p.memberId, 40)} @ ${p.host ?? '?'}`;
  const mark = p.flags.includes('offset-below-log-start') ? ' !' : p.flags.includes('topic-deleted') || p.flags.includes('log-end-unknown') ? ' ?' : '';
  return [
    `${p.topic}-${p.partition}`,
    formatCount(p.lag) + mark,
    formatStaleness(p.lagSeconds, p.lagSecondsMethod) + methodMark(p.lagSecondsMethod),
    formatCount(p.committedOffset),
    formatCount(p.logEndOffset),
    owner,
  ];
}

/** The partition table of these partitions, with the rates after the lag where the history gives them. */
function partitionTable(partitions: readonly PartitionLag[], rates: PartitionRates | null | undefined): { columns: Column[]; rows: string[][] } {
  const cells = rateCells(rates);
  if (!cells) return { columns: SLACK_PARTITION_COLUMNS, rows: partitions.map(slackPartitionRow) };
  // After LAG and STALE: how much, how old, then why.
  const columns = [...SLACK_PARTITION_COLUMNS.slice(0, 3), ...RATE_COLUMNS, ...SLACK_PARTITION_COLUMNS.slice(3)];
  const rows = partitions.map((p) => {
    const row = slackPartitionRow(p);
    return [...row.slice(0, 3), ...cells(p), ...row.slice(3)];
  });
  return { columns, rows };
}

/** `Shared by @maria · ` on an answer posted to the channel, nothing otherwise. */
function sharedByText(options: LagMessageOptions): string {
  return options.sharedBy ? `Shared by ${mentionOf(options.sharedBy)} · ` : '';
}

function footer(lag: GroupLag, options: LagMessageOptions): KnownBlock {
  const shared = sharedByText(options);
  return context(`${shared}Log-end offsets are last stable offsets (read_committed) · read ${formatUtc(lag.readAt)}`);
}

function postButton(commandText: string | undefined, options: LagMessageOptions): KnownBlock[] {
  if (commandText === undefined || options.sharedBy || commandText.length > LIMITS.buttonValue) return [];
  return [
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: ActionIds.postLagToChannel,
          text: { type: 'plain_text', text: 'Post to channel' },
          value: commandText,
        },
      ],
    },
  ];
}

/** The broker's words for the state, and the group's type where it is not classic, escaped: they go into mrkdwn. */
function stateText(lag: GroupLag): string {
  return lag.protocol === 'classic' ? escapeSlack(lag.state) : `${escapeSlack(lag.state)}, ${typeText(lag.protocol)}`;
}

/** What a share group's answer says where others give their lag. */
const SHARE_HEADLINE = 'share group (KIP-932), no consumer lag: it commits no offsets';

/** Fallback text: the group as a code span, so a name like `*bold*_x_` is not read as formatting. */
function headline(lag: GroupLag): string {
  const where = `${codeSpan(lag.group)}${onCluster(lag.cluster)}`;
  if (isLaglessShare(lag)) return `${where}: ${SHARE_HEADLINE}`;
  const stale = lag.lagSeconds === null || lag.lagSeconds === undefined ? '' : `, staleness ${formatStaleness(lag.lagSeconds, lag.lagSecondsMethod)}`;
  return `${where}: total lag ${formatCount(lag.totalLag)} over ${lag.partitions.length} partitions${stale} (${stateText(lag)}, ${memberCountText(lag)} members)`;
}

/** `45s (exact)`: the stalest partition's, with how it was found. */
function stalenessField(lag: GroupLag): string {
  if (lag.lagSeconds === null || lag.lagSeconds === undefined) return '- (unknown)';
  const how = lag.lagSecondsMethod === 'exact' ? 'exact' : lag.lagSecondsMethod === 'extrapolated' ? 'extrapolated' : 'estimated';
  return `${formatStaleness(lag.lagSeconds, lag.lagSecondsMethod)} (${how})`;
}

function summaryFields(lag: GroupLag): KnownBlock {
  const topics = lag.topics.length === 1 ? '1 topic' : `${lag.topics.length} topics`;
  const strategy = lag.assignmentStrategy ? escapeSlack(lag.assignmentStrategy) : '-';
  const epochs = epochsText(lag);
  const share = isLaglessShare(lag);
  return fields([
    ...(isNamed(lag.cluster) ? [['Cluster', lag.cluster] as const] : []),
    ['State', escapeSlack(lag.state)],
    ['Type', typeText(lag.protocol)],
    ['Members', memberCountText(lag)],
    ['Total lag', share ? '- (no committed offsets)' : formatCount(lag.totalLag)],
    ...(share ? [] : [['Staleness', stalenessField(lag)] as const]),
    ['Partitions', `${lag.partitions.length} (${topics})`],
    // KIP-848 and share groups are assigned by the broker: the assignor is the server-side one (e.g. `uniform`).
    [serverAssigned(lag) ? 'Assignor' : 'Assignment strategy', strategy],
    ...(epochs === null ? [] : [['Epochs', epochs] as const]),
  ]);
}

/** The share group's line: what it is instead of lag it does not have. */
const typeNoteBlocks = (lag: GroupLag): KnownBlock[] => (isLaglessShare(lag) ? [section(escapeSlack(SHARE_GROUP_NOTE))] : []);

function membersTableBlocks(lag: GroupLag, maxRows: number): KnownBlock[] {
  const { columns, rows } = memberTable(lag);
  return tableBlocks('*Members*', columns, rows, maxRows, 'members');
}

function findingsBlock(findings: readonly Finding[]): KnownBlock[] {
  if (findings.length === 0) return [];
  return [section(findings.map((f) => `${FINDING_ICONS[f.kind]} ${slackText((s) => findingText(f, s))}`).join('\n'))];
}

/** `rows`: the first of `total` rows, at least as many as can be shown. */
function tableBlocks(title: string, columns: readonly Column[], rows: readonly string[][], maxRows: number, noun: string, total = rows.length): KnownBlock[] {
  const [head, ...lines] = renderTable(columns, rows);
  const table = fittedTable(title, head as string, lines, maxRows);
  const blocks = [table.block];
  const omitted = table.omitted + (total - rows.length);
  if (omitted > 0) blocks.push(context(`${omitted} more ${noun} not shown (the totals include them).`));
  return blocks;
}

/** `/lag GROUP`: the answer to "which partition is hot, who owns it, is it rebalancing". */
export function groupLagMessage(lag: GroupLag, findings: readonly Finding[], options: LagMessageOptions = {}): SlackMessage {
  const blocks: KnownBlock[] = [
    header(`Consumer lag: ${lag.group}${onCluster(lag.cluster)}`),
    summaryFields(lag),
    ...sparklineBlocks(options.history),
    ...typeNoteBlocks(lag),
    ...findingsBlock(findings),
  ];
  if (lag.partitions.length > 0) {
    // Only the rows that can be shown are written: the columns fit them, not partitions
    // far down the list, and a 1,000-partition group's answer does not format 975 rows
    // to drop them (a third of what that answer allocated).
    const maxRows = options.maxPartitionRows ?? 25;
    const table = partitionTable(lag.partitions.slice(0, maxRows), options.rates);
    blocks.push(...tableBlocks('*Lag by partition*, largest first', table.columns, table.rows, maxRows, 'partitions', lag.partitions.length));
  }
  if (lag.members.length > 0) blocks.push(...membersTableBlocks(lag, 15));
  blocks.push(...postButton(options.commandText, options), footer(lag, options));
  return { text: truncate(headline(lag), LIMITS.fallbackText), blocks };
}

/** `/lag GROUP members`: the `--members --verbose` view. */
export function groupMembersMessage(lag: GroupLag, findings: readonly Finding[], options: LagMessageOptions = {}): SlackMessage {
  const blocks: KnownBlock[] = [header(`Members: ${lag.group}${onCluster(lag.cluster)}`), summaryFields(lag), ...typeNoteBlocks(lag), ...findingsBlock(findings)];
  if (!lag.membersVisible) {
    blocks.push(section(escapeSlack(membersUnreadText(lag.protocol))));
  } else if (lag.members.length === 0) {
    blocks.push(section('No active members.'));
  } else {
    blocks.push(...membersTableBlocks(lag, 40));
  }
  blocks.push(...postButton(options.commandText, options), footer(lag, options));
  const text = `${codeSpan(lag.group)}${onCluster(lag.cluster)}: ${memberCountText(lag)} members (${stateText(lag)})`;
  return { text: truncate(text, LIMITS.fallbackText), blocks };
}

/** `/lag` and `/lag list`: every group, largest total lag first, a section per named cluster. */
export function groupListMessage(
  clusters: readonly ClusterGroups[],
  unavailable: readonly ClusterProblem[],
  readAt: number,
  options: LagMessageOptions = {},
): SlackMessage {
  const listings = clusters.flatMap((c) => c.listings);
  const total = listings.reduce((n, l) => n + (l.totalLag ?? 0), 0);
  const blocks: KnownBlock[] = [header('Consumer groups'), fields([['Groups', String(listings.length)], ['Total lag', formatCount(total)]])];
  const named = clusters.length > 1 || clusters.some((c) => isNamed(c.cluster));
  // The clusters that could not be read come first: a message cut at Slack's 50 blocks must
  // never pass for a whole answer. The tables share the rows a single table would have.
  blocks.push(...problemBlocks(unavailable));
  const rowsEach = Math.max(5, Math.floor(30 / Math.max(1, clusters.length)));
  const room = LIMITS.blocksPerMessage - blocks.length - 4;
  const shown = clusters.slice(0, Math.max(1, Math.floor(room / 2)));
  for (const c of shown) {
    const title = named ? `*${c.cluster}*, largest total lag first` : '*Largest total lag first*';
    if (c.listings.length === 0) blocks.push(section(named ? `*${c.cluster}*: no consumer groups.` : 'No consumer groups on this cluster.'));
    else blocks.push(...tableBlocks(title, LISTING_COLUMNS, c.listings.map(listingRow), rowsEach, 'groups'));
  }
  if (shown.length < clusters.length) blocks.push(context(`${clusters.length - shown.length} more clusters not shown: \`/lag list in CLUSTER\` lists one.`));
  if (listings.length > 0) blocks.push(context(named ? 'Type `/lag GROUP` for partitions, owners and hints, `/lag GROUP in CLUSTER` for one cluster.' : 'Type `/lag GROUP` for partitions, owners and hints.'));
  const shared = sharedByText(options);
  blocks.push(...postButton(options.commandText, options), context(`${shared}Read ${formatUtc(readAt)}`));
  const top = [...listings].sort((a, b) => (b.totalLag ?? 0) - (a.totalLag ?? 0))[0];
  const text = top
    ? `${listings.length} consumer groups; largest lag ${formatCount(top.totalLag)} in ${codeSpan(top.group)}${onCluster(top.cluster)}`
    : 'No consumer groups';
  return { text: truncate(text, LIMITS.fallbackText), blocks };
}

/** Clusters left out of an answer: named, with what went wrong, so a partial answer never passes for a whole one. */
function problemBlocks(problems: readonly ClusterProblem[]): KnownBlock[] {
  if (problems.length === 0) return [];
  return [section(problems.map((p) => `:rotating_light: *${p.cluster}* could not be read: ${escapeSlack(p.detail)}`).join('\n'))];
}

/** `/lag GROUP` for a group found in several clusters: a short section each, the full view one command away. */
export function groupAcrossClustersMessage(found: readonly FoundGroup[], unavailable: readonly ClusterProblem[], options: LagMessageOptions = {}): SlackMessage {
  const group = (found[0] as FoundGroup).lag.group;
  // Clusters that could not be searched come first, so a message cut at 50 blocks never hides them.
  const blocks: KnownBlock[] = [header(`Consumer lag: ${group}`), section(`Found in ${found.length} clusters.`), ...problemBlocks(unavailable)];
  for (const { lag, findings } of found) {
    const line = isLaglessShare(lag)
      ? `*${lag.cluster}*: ${SHARE_HEADLINE}`
      : `*${lag.cluster}*: total lag ${formatCount(lag.totalLag)} over ${lag.partitions.length} partitions (${stateText(lag)}, ${memberCountText(lag)} members)`;
    blocks.push(divider, section(line));
    blocks.push(...findingsBlock(findings));
    if (lag.partitions.length > 0) blocks.push(...tableBlocks('*Largest lag*', SLACK_PARTITION_COLUMNS, lag.partitions.map(slackPartitionRow), 3, 'partitions'));
    blocks.push(context(`\`/lag ${codeSpanSafe(group)} in ${lag.cluster}\` for every partition and member · read ${formatUtc(lag.readAt)}`));
  }
  blocks.push(...postButton(options.commandText, options));
  if (options.sharedBy) blocks.push(context(sharedByText(options).replace(/ · $/, '')));
  const text = `${codeSpan(group)}: ${found.map(({ lag }) => `${lag.cluster} ${formatCount(lag.totalLag)}`).join(', ')}`;
  return { text: truncate(text, LIMITS.fallbackText), blocks: blocks.slice(0, LIMITS.blocksPerMessage) };
}

/**
 * A group name as `/lag` reads it back, for a command to type: quoted when it has spaces,
 * behind `group` when it is one of the command's own words.
 */
function codeSpanSafe(group: string): string {
  const quoted = /\s/.test(group) ? `"${group}"` : group;
  const typed = COMMAND_WORDS.has(group.toLowerCase()) ? `group ${quoted}` : quoted;
  return escapeSlack(typed.replace(/`/g, "'"));
}

export function helpMessage(): SlackMessage {
  return {
    text: 'lagbot: /lag usage',
    blocks: [section('*lagbot* shows Kafka consumer lag.'), section(LAG_USAGE)],
  };
}

/** A short error plus usage, for input the command cannot act on (it may echo that input). */
export function usageErrorMessage(error: string): SlackMessage {
  const text = escapeSlack(error);
  return { text, blocks: [section(`:warning: ${text}`), context(LAG_USAGE.replace(/\n/g, ' · '))] };
}

export function unknownGroupMessage(group: string, suggestions: readonly string[], searched: readonly string[] = [DEFAULT_CLUSTER], unavailable: readonly ClusterProblem[] = []): SlackMessage {
  const didYouMean = suggestions.length > 0 ? ` Did you mean ${suggestions.map(codeSpan).join(', ')}?` : '';
  const where = searched.length === 1 && !isNamed(searched[0] as string) ? 'on this cluster' : `on ${searched.join(', ')}`;
  const text = `No such group ${codeSpan(group)} ${where}.${didYouMean}`;
  return {
    text: `No such group: ${codeSpan(group)}`,
    blocks: [section(`:mag: ${text}`), ...problemBlocks(unavailable), context('`/lag list` shows every group.')],
  };
}

export function unknownClusterMessage(cluster: string, known: readonly string[]): SlackMessage {
  const text = `No cluster named ${codeSpan(cluster)}. Known clusters: ${known.map(codeSpan).join(', ')}.`;
  return { text: `No such cluster: ${codeSpan(cluster)}`, blocks: [section(`:mag: ${text}`), context('`/lag GROUP in CLUSTER` reads one cluster; `/lag GROUP` reads them all.')] };
}

/** Kafka could not answer: say which cluster failed and why, and that nothing was guessed. */
export function clusterErrorMessage(detail: string, cluster?: string): SlackMessage {
  const text = `Could not read from Kafka${cluster !== undefined && isNamed(cluster) ? ` cluster ${cluster}` : ''}: ${escapeSlack(detail)}`;
  return { text, blocks: [section(`:rotating_light: ${text}`), context('No numbers are shown rather than stale or guessed ones. Try again, or check the brokers.')] };
}

function unavailableMessage(problems: readonly ClusterProblem[]): SlackMessage {
  if (problems.length === 1) return clusterErrorMessage((problems[0] as ClusterProblem).detail, (problems[0] as ClusterProblem).cluster);
  const text = `Could not read from Kafka: none of ${problems.map((p) => p.cluster).join(', ')} answered`;
  return { text, blocks: [section(`:rotating_light: ${escapeSlack(text)}`), ...problemBlocks(problems), context('No numbers are shown rather than stale or guessed ones.')] };
}

/** A group answer, with the clusters that could not be searched named under it. */
function withProblems(message: SlackMessage, problems: readonly ClusterProblem[]): SlackMessage {
  if (problems.length === 0) return message;
  const blocks = [...message.blocks];
  blocks.splice(Math.max(1, blocks.length - 1), 0, ...problemBlocks(problems));
  return { ...message, blocks: blocks.slice(0, LIMITS.blocksPerMessage) };
}

/** The Slack rendering of any answer to a `/lag` request. */
export function lagAnswerMessage(answer: LagAnswer, options: LagMessageOptions = {}): SlackMessage {
  switch (answer.kind) {
    case 'help':
      return helpMessage();
    case 'list':
      return groupListMessage(answer.clusters, answer.unavailable, answer.readAt, options);
    case 'group': {
      if (answer.found.length > 1) return groupAcrossClustersMessage(answer.found, answer.unavailable, options);
      const { lag, findings, rates, history } = answer.found[0] as FoundGroup;
      const points = history ? historyChart(lag, history, [])?.points : undefined;
      const message = answer.view === 'members' ? groupMembersMessage(lag, findings, options) : groupLagMessage(lag, findings, { ...options, rates, ...(points ? { history: points } : {}) });
      return withProblems(message, answer.unavailable);
    }
    case 'unknown-group':
      return unknownGroupMessage(answer.group, answer.suggestions, answer.searched, answer.unavailable);
    case 'unknown-cluster':
      return unknownClusterMessage(answer.cluster, answer.known);
    case 'unavailable':
      return unavailableMessage(answer.problems);
  }
}
