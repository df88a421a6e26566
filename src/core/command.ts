import { unescapeSlack } from './slack-escape.js';

/** What a person asked for with `/lag ...` (the text after the command). */
export type LagRequest =
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'group'; group: string; view: 'partitions' | 'members' };

export type ParsedLagCommand = { ok: true; request: LagRequest } | { ok: false; error: string };

export const LAG_USAGE = [
  '`/lag GROUP` - lag per partition, owners and hints for one consumer group',
  '`/lag GROUP members` - members, hosts, client ids and their assigned partitions',
  '`/lag` or `/lag list` - every consumer group, largest total lag first',
  '`/lag help` - this help',
].join('\n');

const VIEWS: Record<string, 'partitions' | 'members'> = {
  members: 'members',
  member: 'members',
  partitions: 'partitions',
};

/** Words of the command; "double quotes" keep a group id with spaces in one word. */
function splitWords(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '').filter((w) => w.length > 0);
}

/**
 * Parse the text of a `/lag` command. Kafka group ids may contain any character; one
 * with spaces is quoted, and a group literally named `list` or `help` is reached with
 * `/lag group list`.
 */
export function parseLagCommand(rawText: string): ParsedLagCommand {
  const words = splitWords(unescapeSlack(rawText).replace(/[“”]/g, '"'));
  if (words.length === 0) return { ok: true, request: { kind: 'list' } };

  let [first, ...rest] = words as [string, ...string[]];
  if (first.toLowerCase() === 'group' && rest.length > 0) {
    [first, ...rest] = rest as [string, ...string[]];
  } else if (rest.length === 0) {
    const word = first.toLowerCase();
    if (word === 'help' || word === '-h' || word === '--help') return { ok: true, request: { kind: 'help' } };
    if (word === 'list' || word === 'ls') return { ok: true, request: { kind: 'list' } };
  }

  if (rest.length === 0) return { ok: true, request: { kind: 'group', group: first, view: 'partitions' } };
  if (rest.length === 1) {
    const view = VIEWS[(rest[0] as string).toLowerCase()];
    if (view) return { ok: true, request: { kind: 'group', group: first, view } };
    return { ok: false, error: `Unknown view "${rest[0]}" for group "${first}": use \`/lag ${first}\` or \`/lag ${first} members\`.` };
  }
  return { ok: false, error: `Too many words: \`/lag\` takes a group name and optionally \`members\` (got ${words.length} words).` };
}
