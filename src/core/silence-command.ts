import { splitWords } from './command.js';
import { parseDuration, parseInstant } from './duration.js';
import type { SilenceRequest, SilenceTarget } from './silence.js';
import { unescapeSlack } from './slack-escape.js';

/**
 * `/lag silence ...`, `/lag silences` and `/lag unsilence ID`. One order, so nothing is
 * guessed: `silence TARGET [in CLUSTER] DURATION [from TIME] [REASON...]`, where TARGET is a
 * group, a glob over group ids (`payments-*`), or `cluster:NAME` for a whole cluster. A
 * group literally named like a keyword is reached with `silence group NAME ...`, as in `/lag`.
 */
export type SilenceCommand =
  | { kind: 'silence'; request: SilenceRequest }
  | { kind: 'list' }
  | { kind: 'end'; id: string };

/** What is wrong with the typed command: kinds and the words at fault; the view writes the sentence. */
export type SilenceCommandProblem =
  | { kind: 'silence-usage'; missing: 'target' | 'duration' }
  | { kind: 'bad-duration'; word: string }
  | { kind: 'missing-start' }
  | { kind: 'bad-start'; word: string }
  | { kind: 'missing-cluster' }
  | { kind: 'bad-cluster'; word: string }
  | { kind: 'unsilence-usage' }
  | { kind: 'bad-silence-id'; word: string }
  | { kind: 'silences-usage'; extra: string };

export type ParsedSilenceCommand = { ok: true; command: SilenceCommand } | { ok: false; problem: SilenceCommandProblem };

/** Silence ids are lagbot's own (see newSilenceId); anything else is a typo. */
export const SILENCE_ID = /^sil-[a-z0-9]{4,40}$/;

/** Cluster names, as the configuration allows them. */
const CLUSTER_NAME = /^[a-z0-9][a-z0-9-]*$/;

/**
 * The command when the text is one of the silence commands, null when it is not (then it
 * is an ordinary `/lag` request). Only the first word decides.
 */
export function parseSilenceCommand(rawText: string): ParsedSilenceCommand | null {
  const words = splitWords(unescapeSlack(rawText).replace(/[“”]/g, '"'));
  const first = words[0]?.toLowerCase();
  if (first === 'silences') {
    return words.length === 1 ? { ok: true, command: { kind: 'list' } } : { ok: false, problem: { kind: 'silences-usage', extra: words.slice(1).join(' ') } };
  }
  if (first === 'unsilence') {
    if (words.length !== 2) return { ok: false, problem: { kind: 'unsilence-usage' } };
    const id = (words[1] as string).toLowerCase();
    return SILENCE_ID.test(id) ? { ok: true, command: { kind: 'end', id } } : { ok: false, problem: { kind: 'bad-silence-id', word: words[1] as string } };
  }
  if (first !== 'silence') return null;
  return parseSilence(words.slice(1));
}

function parseSilence(args: string[]): ParsedSilenceCommand {
  const fail = (problem: SilenceCommandProblem): ParsedSilenceCommand => ({ ok: false, problem });
  let rest = args;
  let literal = false;
  if (rest[0]?.toLowerCase() === 'group' && rest.length > 1) {
    literal = true;
    rest = rest.slice(1);
  }
  const targetWord = rest.shift();
  if (targetWord === undefined) return fail({ kind: 'silence-usage', missing: 'target' });
  let target: SilenceTarget;
  const clusterWide = !literal && /^cluster:/i.test(targetWord);
  if (clusterWide) {
    const name = targetWord.slice('cluster:'.length);
    if (!CLUSTER_NAME.test(name)) return fail({ kind: 'bad-cluster', word: name });
    target = { kind: 'cluster', cluster: name };
  } else {
    target = { kind: 'groups', pattern: targetWord, cluster: null };
  }
  if (!clusterWide && rest[0]?.toLowerCase() === 'in') {
    const name = rest[1];
    if (name === undefined) return fail({ kind: 'missing-cluster' });
    if (!CLUSTER_NAME.test(name)) return fail({ kind: 'bad-cluster', word: name });
    target = { kind: 'groups', pattern: targetWord, cluster: name };
    rest = rest.slice(2);
  }
  const durationWord = rest.shift();
  if (durationWord === undefined) return fail({ kind: 'silence-usage', missing: 'duration' });
  const durationMs = parseDuration(durationWord);
  if (durationMs === null) return fail({ kind: 'bad-duration', word: durationWord });
  let from: number | null = null;
  if (rest[0]?.toLowerCase() === 'from') {
    const startWord = rest[1];
    if (startWord === undefined) return fail({ kind: 'missing-start' });
    from = parseInstant(startWord);
    if (from === null) return fail({ kind: 'bad-start', word: startWord });
    rest = rest.slice(2);
  }
  const reason = rest.join(' ').trim();
  return { ok: true, command: { kind: 'silence', request: { target, durationMs, from, reason: reason.length > 0 ? reason : null } } };
}
