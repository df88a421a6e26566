import type { KnownBlock } from '@slack/types';
import { ActionIds } from '../core/action-ids.js';
import { LAG_USAGE } from '../core/command.js';
import type { Finding } from '../core/findings.js';
import type { LagAnswer } from '../core/lag-query.js';
import type { GroupLag, GroupListing, PartitionLag, SlackMessage } from '../core/protocol.js';
import { codeSpan, escapeSlack, truncate } from '../core/slack-escape.js';
import { LIMITS, context, fields, fittedTable, header, section } from './blocks.js';
import { FINDING_ICONS, findingText } from './finding-text.js';
import { formatCount, formatUtc } from './format.js';
import { mentionOf, slackText } from './text-style.js';
import {
  LISTING_COLUMNS,
  MEMBER_COLUMNS,
  listingRow,
  memberRow,
  renderTable,
  sortedMembers,
  type Column,
} from './table.js';

export type { SlackMessage };

export interface LagMessageOptions {
  /** The `/lag` text that produced this view, carried by the "post to channel" button. */
  commandText?: string;
  /** Set when the message is being posted to the channel, to credit who shared it. */
  sharedBy?: string;
  /** Rows of the partition table before it is cut (the section limit may cut earlier). */
  maxPartitionRows?: number;
}

const SLACK_PARTITION_COLUMNS: Column[] = [
  { header: 'PARTITION', align: 'left' },
  { header: 'LAG', align: 'right' },
  { header: 'COMMITTED', align: 'right' },
  { header: 'LOG-END', align: 'right' },
  { header: 'OWNER', align: 'left' },
];

/** Narrower than the terminal table: Slack code blocks wrap at about 90 characters. */
function slackPartitionRow(p: PartitionLag): string[] {
  // Client id and host, as the case study's table reads; the long member ids are in the members table.
  const owner = p.memberId === null ? '-' : `${truncate(p.clientId ?? p.memberId, 40)} @ ${p.host ?? '?'}`;
  const mark = p.flags.includes('offset-below-log-start') ? ' !' : p.flags.includes('topic-deleted') ? ' ?' : '';
  return [
    `${p.topic}-${p.partition}`,
    formatCount(p.lag) + mark,
    formatCount(p.committedOffset),
    formatCount(p.logEndOffset),
    owner,
  ];
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

function stateText(lag: GroupLag): string {
  if (lag.protocol === 'consumer') return `${lag.state} (consumer protocol, KIP-848)`;
  return lag.state;
}

function membersText(lag: GroupLag): string {
  return lag.membersVisible ? String(lag.members.length) : 'not visible (KIP-848)';
}

/** Fallback text: the group as a code span, so a name like `*bold*_x_` is not read as formatting. */
function headline(lag: GroupLag): string {
  return `${codeSpan(lag.group)}: total lag ${formatCount(lag.totalLag)} over ${lag.partitions.length} partitions (${lag.state}, ${membersText(lag)} members)`;
}

function summaryFields(lag: GroupLag): KnownBlock {
  const topics = lag.topics.length === 1 ? '1 topic' : `${lag.topics.length} topics`;
  const strategy = lag.assignmentStrategy ? escapeSlack(lag.assignmentStrategy) : '-';
  return fields([
    ['State', stateText(lag)],
    ['Members', membersText(lag)],
    ['Total lag', formatCount(lag.totalLag)],
    ['Partitions', `${lag.partitions.length} (${topics})`],
    ['Assignment strategy', strategy],
  ]);
}

function findingsBlock(findings: readonly Finding[]): KnownBlock[] {
  if (findings.length === 0) return [];
  return [section(findings.map((f) => `${FINDING_ICONS[f.kind]} ${slackText((s) => findingText(f, s))}`).join('\n'))];
}

function tableBlocks(title: string, columns: readonly Column[], rows: readonly string[][], maxRows: number, noun: string): KnownBlock[] {
  const [head, ...lines] = renderTable(columns, rows);
  const table = fittedTable(title, head as string, lines, maxRows);
  const blocks = [table.block];
  if (table.omitted > 0) blocks.push(context(`${table.omitted} more ${noun} not shown (the totals include them).`));
  return blocks;
}

/** `/lag GROUP`: the answer to "which partition is hot, who owns it, is it rebalancing". */
export function groupLagMessage(lag: GroupLag, findings: readonly Finding[], options: LagMessageOptions = {}): SlackMessage {
  const blocks: KnownBlock[] = [header(`Consumer lag: ${lag.group}`), summaryFields(lag), ...findingsBlock(findings)];
  if (lag.partitions.length > 0) {
    blocks.push(
      ...tableBlocks(
        '*Lag by partition*, largest first',
        SLACK_PARTITION_COLUMNS,
        lag.partitions.map(slackPartitionRow),
        options.maxPartitionRows ?? 25,
        'partitions',
      ),
    );
  }
  if (lag.members.length > 0) {
    blocks.push(...tableBlocks('*Members*', MEMBER_COLUMNS, sortedMembers(lag).map(memberRow), 15, 'members'));
  }
  blocks.push(...postButton(options.commandText, options), footer(lag, options));
  return { text: truncate(headline(lag), LIMITS.fallbackText), blocks };
}

/** `/lag GROUP members`: the `--members --verbose` view. */
export function groupMembersMessage(lag: GroupLag, findings: readonly Finding[], options: LagMessageOptions = {}): SlackMessage {
  const blocks: KnownBlock[] = [header(`Members: ${lag.group}`), summaryFields(lag), ...findingsBlock(findings)];
  if (!lag.membersVisible) {
    blocks.push(section('Members of consumer-protocol (KIP-848) groups are not visible to lagbot yet.'));
  } else if (lag.members.length === 0) {
    blocks.push(section('No active members.'));
  } else {
    blocks.push(...tableBlocks('*Members*', MEMBER_COLUMNS, sortedMembers(lag).map(memberRow), 40, 'members'));
  }
  blocks.push(...postButton(options.commandText, options), footer(lag, options));
  const text = `${codeSpan(lag.group)}: ${membersText(lag)} members (${lag.state})`;
  return { text: truncate(text, LIMITS.fallbackText), blocks };
}

/** `/lag` and `/lag list`: every group, largest total lag first. */
export function groupListMessage(
  listings: readonly GroupListing[],
  readAt: number,
  options: LagMessageOptions = {},
): SlackMessage {
  const total = listings.reduce((n, l) => n + (l.totalLag ?? 0), 0);
  const blocks: KnownBlock[] = [header('Consumer groups'), fields([['Groups', String(listings.length)], ['Total lag', formatCount(total)]])];
  if (listings.length === 0) {
    blocks.push(section('No consumer groups on this cluster.'));
  } else {
    blocks.push(...tableBlocks('*Largest total lag first*', LISTING_COLUMNS, listings.map(listingRow), 30, 'groups'));
    blocks.push(context('Type `/lag GROUP` for partitions, owners and hints.'));
  }
  const shared = sharedByText(options);
  blocks.push(...postButton(options.commandText, options), context(`${shared}Read ${formatUtc(readAt)}`));
  const top = listings[0];
  const text = top
    ? `${listings.length} consumer groups; largest lag ${formatCount(top.totalLag)} in ${codeSpan(top.group)}`
    : 'No consumer groups';
  return { text: truncate(text, LIMITS.fallbackText), blocks };
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

export function unknownGroupMessage(group: string, suggestions: readonly string[]): SlackMessage {
  const didYouMean = suggestions.length > 0 ? ` Did you mean ${suggestions.map(codeSpan).join(', ')}?` : '';
  const text = `No such group ${codeSpan(group)} on this cluster.${didYouMean}`;
  return { text: `No such group: ${codeSpan(group)}`, blocks: [section(`:mag: ${text}`), context('`/lag list` shows every group.')] };
}

/** Kafka could not answer: say what failed and that nothing was guessed. */
export function clusterErrorMessage(detail: string): SlackMessage {
  const text = `Could not read from Kafka: ${escapeSlack(detail)}`;
  return { text, blocks: [section(`:rotating_light: ${text}`), context('No numbers are shown rather than stale or guessed ones. Try again, or check the brokers.')] };
}

/** The Slack rendering of any answer to a `/lag` request. */
export function lagAnswerMessage(answer: LagAnswer, options: LagMessageOptions = {}): SlackMessage {
  switch (answer.kind) {
    case 'help':
      return helpMessage();
    case 'list':
      return groupListMessage(answer.listings, answer.readAt, options);
    case 'group':
      return answer.view === 'members' ? groupMembersMessage(answer.lag, answer.findings, options) : groupLagMessage(answer.lag, answer.findings, options);
    case 'unknown-group':
      return unknownGroupMessage(answer.group, answer.suggestions);
    case 'unavailable':
      return clusterErrorMessage(answer.detail);
  }
}
