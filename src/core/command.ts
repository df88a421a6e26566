import { unescapeSlack } from './slack-escape.js';

/** What a person asked for with `/lag ...` (the text after the command). */
export type LagRequest =
  | { kind: 'help' }
  /** `cluster`: only that cluster; every cluster when absent. */
  | { kind: 'list'; cluster?: string }
  | { kind: 'group'; group: string; view: GroupView; cluster?: string };

/** What `/lag GROUP` shows: its partitions, its members, or a chart of its last hour. */
export type GroupView = 'partitions' | 'members' | 'chart';

export type ParsedLagCommand = { ok: true; request: LagRequest } | { ok: false; error: string };

export const LAG_USAGE = [
  '`/lag GROUP` - lag per partition, owners and hints for one consumer group, in every cluster that has it',
  '`/lag GROUP members` - members, hosts, client ids and their assigned partitions',
  '`/lag GROUP chart` - a chart of the group\'s lag and produce/consume rates over the last hour',
  '`/lag` or `/lag list` - every consumer group, largest total lag first, by cluster',
  '`/lag GROUP in CLUSTER`, `/lag list in CLUSTER` - one cluster only',
  '`/lag silence GROUP|PATTERN [in CLUSTER] DURATION [from TIME] [reason]` - no new incidents and no mentions for those groups for a while (`30m`, `2h`, `1h30m`, `1d`); `cluster:CLUSTER` silences a whole cluster; `from 2026-12-03T02:00Z` schedules a maintenance window',
  '`/lag silences` - the silences in force and those scheduled, each with an End now button; `/lag unsilence ID` ends one',
  '`/lag help` - this help',
].join('\n');

/** Words `/lag` reads as its own: a group with one of these names is reached as `/lag group NAME`. */
export const COMMAND_WORDS: ReadonlySet<string> = new Set(['help', '-h', '--help', 'list', 'ls', 'group', 'in', '--cluster', 'members', 'member', 'partitions', 'chart', 'silence', 'silences', 'unsilence']);

const VIEWS: Record<string, GroupView> = {
  members: 'members',
  member: 'members',
  partitions: 'partitions',
  chart: 'chart',
};

/** Words of the command; "double quotes" keep a group id with spaces in one word. */
export function splitWords(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '').filter((w) => w.length > 0);
}

/**
 * Parse the text of a `/lag` command. Kafka group ids may contain any character; one
 * with spaces is quoted, and a group literally named `list` or `help` is reached with
 * `/lag group list`.
 */
export function parseLagCommand(rawText: string): ParsedLagCommand {
  const all = splitWords(unescapeSlack(rawText).replace(/[“”]/g, '"'));
  // `in CLUSTER` (or the CLI's `--cluster CLUSTER`) at the end names the cluster; cluster names are [a-z0-9-].
  let cluster: string | undefined;
  let words = all;
  const marker = all.length >= 2 ? (all[all.length - 2] as string).toLowerCase() : '';
  if (marker === 'in' || marker === '--cluster') {
    cluster = all[all.length - 1] as string;
    words = all.slice(0, -2);
  } else if (all.length > 1 && ['in', '--cluster'].includes((all[all.length - 1] as string).toLowerCase()) && !(all.length === 2 && all[0]?.toLowerCase() === 'group')) {
    return { ok: false, error: `\`${all[all.length - 1]}\` needs a cluster name after it, e.g. \`/lag ${all[0]} in prod-eu\`.` };
  }
  const where = cluster === undefined ? {} : { cluster };
  if (words.length === 0) return { ok: true, request: { kind: 'list', ...where } };

  let [first, ...rest] = words as [string, ...string[]];
  if (first.toLowerCase() === 'group' && rest.length > 0) {
    [first, ...rest] = rest as [string, ...string[]];
  } else if (rest.length === 0) {
    const word = first.toLowerCase();
    if (word === 'help' || word === '-h' || word === '--help') return { ok: true, request: { kind: 'help' } };
    if (word === 'list' || word === 'ls') return { ok: true, request: { kind: 'list', ...where } };
  }

  if (rest.length === 0) return { ok: true, request: { kind: 'group', group: first, view: 'partitions', ...where } };
  if (rest.length === 1) {
    const view = VIEWS[(rest[0] as string).toLowerCase()];
    if (view) return { ok: true, request: { kind: 'group', group: first, view, ...where } };
    return { ok: false, error: `Unknown view "${rest[0]}" for group "${first}": use \`/lag ${first}\`, \`/lag ${first} members\`, \`/lag ${first} chart\` or \`/lag ${first} in CLUSTER\`.` };
  }
  return { ok: false, error: `Too many words: \`/lag\` takes a group name, optionally \`members\` or \`chart\`, and optionally \`in CLUSTER\` (got ${all.length} words).` };
}
