import type { KnownBlock } from '@slack/types';
import { ActionIds } from '../core/action-ids.js';
import type { SilenceCommandProblem } from '../core/silence-command.js';
import { endOf, isActive, type Silence, type SilenceEnding, type SilenceProblem, type SilenceTarget } from '../core/silence.js';
import type { SlackMessage } from '../core/protocol.js';
import { escapeSlack, truncate } from '../core/slack-escape.js';
import { LIMITS, context, section } from './blocks.js';
import { formatDuration, formatUtc } from './format.js';
import { PLAIN_STYLE, slackText, type TextStyle } from './text-style.js';

/** The sentences of silences: what one covers, the list, and why one was refused. */

const GLOB = /[*?[\]{}]/;

export function targetText(target: SilenceTarget, s: TextStyle = PLAIN_STYLE): string {
  if (target.kind === 'cluster') return `every group on ${s.name(target.cluster)}`;
  const what = GLOB.test(target.pattern) ? `the groups matching ${s.name(target.pattern)}` : `the group ${s.name(target.pattern)}`;
  return target.cluster === null ? what : `${what} on ${s.name(target.cluster)}`;
}

const because = (reason: string | null): string => (reason === null ? '' : ` (${reason})`);

/** One silence, as a line of the list and of the confirmation. */
export function silenceLine(silence: Silence, now: number, s: TextStyle = PLAIN_STYLE): string {
  const when = isActive(silence, now)
    ? `until ${formatUtc(endOf(silence))} (${formatDuration(endOf(silence) - now)} left)`
    : `from ${formatUtc(silence.startsAt)} until ${formatUtc(silence.endsAt)} (in ${formatDuration(silence.startsAt - now)}, for ${formatDuration(silence.endsAt - silence.startsAt)})`;
  return `${s.name(silence.id)}: ${targetText(silence.target, s)}, by ${s.user(silence.by)}, ${when}${because(silence.reason)}`;
}

export function silenceCreatedMessage(silence: Silence, now: number): SlackMessage {
  const scheduled = !isActive(silence, now);
  const head = scheduled ? ':calendar: Maintenance window scheduled' : ':no_bell: Silenced';
  const effect = scheduled
    ? 'From its start, lagbot opens no incident for these groups and mentions no one; open incidents keep their timeline.'
    : 'lagbot opens no incident for these groups and mentions no one until then; open incidents keep their timeline and say they are silenced at their next check.';
  const text = `${head}: ${slackText((s) => silenceLine(silence, now, s))}. ${effect}`;
  return { text: truncate(text, LIMITS.fallbackText), blocks: [section(text), context(slackText((s) => `End it early with ${s.name(`/lag unsilence ${silence.id}`)} or the End now button of ${s.name('/lag silences')}.`))] };
}

/** `/lag silences`: each silence in force or scheduled, with its End now button. */
export function silenceListMessage(silences: readonly Silence[], now: number): SlackMessage {
  if (silences.length === 0) {
    const text = slackText((s) => `No silences in force or scheduled. ${s.name('/lag silence GROUP 2h reason')} starts one.`);
    return { text, blocks: [section(text)] };
  }
  // Two blocks a silence and one for the title: 24 fit in a message, the rest are counted.
  const shown = silences.slice(0, 24);
  const blocks: KnownBlock[] = [section(`*Silences* (${silences.length}, times in UTC)`)];
  for (const silence of shown) {
    const icon = isActive(silence, now) ? ':no_bell:' : ':calendar:';
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`${icon} ${slackText((s) => silenceLine(silence, now, s))}`, LIMITS.sectionText) },
      accessory: {
        type: 'button',
        action_id: ActionIds.endSilence,
        text: { type: 'plain_text', text: isActive(silence, now) ? 'End now' : 'Cancel' },
        value: silence.id,
        confirm: {
          title: { type: 'plain_text', text: isActive(silence, now) ? 'End this silence?' : 'Cancel this maintenance window?' },
          text: { type: 'mrkdwn', text: 'Lagging groups it covers open incidents and notify again at the next check.' },
          confirm: { type: 'plain_text', text: isActive(silence, now) ? 'End now' : 'Cancel it' },
          deny: { type: 'plain_text', text: 'Keep it' },
        },
      },
    });
  }
  if (silences.length > shown.length) blocks.push(context(`and ${silences.length - shown.length} more`));
  const text = `${silences.length} silence${silences.length === 1 ? '' : 's'}: ${shown.map((x) => slackText((s) => s.name(x.id))).join(', ')}`;
  return { text: truncate(text, LIMITS.fallbackText), blocks };
}

export function silenceEndingText(ending: SilenceEnding, now: number, s: TextStyle = PLAIN_STYLE): string {
  switch (ending.kind) {
    case 'ended': {
      const started = ending.silence.startsAt <= now;
      return started
        ? `Ended ${s.name(ending.silence.id)} (${targetText(ending.silence.target, s)}). Open incidents it covered say so at their next check, and lagging groups open incidents again.`
        : `Cancelled the maintenance window ${s.name(ending.silence.id)} (${targetText(ending.silence.target, s)}); it will not start.`;
    }
    case 'already-over':
      return `${s.name(ending.silence.id)} is already over (since ${formatUtc(endOf(ending.silence))}); nothing changed.`;
    case 'no-such-silence':
      return `There is no silence ${s.name(ending.id)}; ${s.name('/lag silences')} lists them.`;
  }
}

export function silenceProblemText(p: SilenceProblem | SilenceCommandProblem, s: TextStyle = PLAIN_STYLE): string {
  const usage = s.name('/lag silence GROUP|PATTERN [in CLUSTER] DURATION [from 2026-12-03T02:00Z] [reason]');
  switch (p.kind) {
    case 'silence-usage':
      return p.missing === 'target' ? `Which groups? Use ${usage}, or ${s.name('cluster:NAME')} for a whole cluster.` : `For how long? Add a duration such as ${s.name('2h')}: ${usage}.`;
    case 'bad-duration':
      return `${s.name(p.word)} is not a duration: write days, hours and minutes like ${s.name('45m')}, ${s.name('2h')}, ${s.name('1h30m')} or ${s.name('1d')}.`;
    case 'missing-start':
      return `${s.name('from')} needs a start time with its zone, such as ${s.name('2026-12-03T02:00Z')}.`;
    case 'bad-start':
      return `${s.name(p.word)} is not a start time lagbot can read unambiguously: write it as ${s.name('2026-12-03T02:00Z')} or ${s.name('2026-12-03T03:00+01:00')}, with the zone.`;
    case 'missing-cluster':
      return `${s.name('in')} needs a cluster name after it, e.g. ${s.name('/lag silence payments-* in prod-eu 2h')}.`;
    case 'bad-cluster':
      return `${s.name(p.word)} is not a cluster name (lower-case letters, digits and dashes, such as ${s.name('prod-eu')}).`;
    case 'unsilence-usage':
      return `Use ${s.name('/lag unsilence ID')} with an id from ${s.name('/lag silences')}.`;
    case 'bad-silence-id':
      return `${s.name(p.word)} is not a silence id: they look like ${s.name('sil-3f9k2m')}; ${s.name('/lag silences')} lists them.`;
    case 'silences-usage':
      return `${s.name('/lag silences')} takes nothing after it (got ${s.name(p.extra)}).`;
    case 'too-short':
      return `A silence lasts at least ${formatDuration(p.minMs)} (asked: ${formatDuration(p.durationMs)}).`;
    case 'too-long':
      return `A silence lasts at most ${formatDuration(p.maxMs)} (asked: ${formatDuration(p.durationMs)}); for a group that should never alert, use ${s.name('watch.exclude')} in the configuration.`;
    case 'starts-in-past':
      return `That start, ${formatUtc(p.from)}, is in the past (now ${formatUtc(p.now)}); leave out ${s.name('from')} to start now.`;
    case 'starts-too-far-ahead':
      return `That start, ${formatUtc(p.from)}, is more than ${formatDuration(p.maxAheadMs)} ahead; schedule it closer to the window.`;
    case 'reason-too-long':
      return `The reason is ${p.chars} characters; keep it under ${p.maxChars}.`;
    case 'unknown-cluster':
      return `lagbot watches no cluster ${s.name(p.cluster)}; it knows ${p.known.map(s.name).join(', ')}.`;
  }
}

export function silenceProblemMessage(p: SilenceProblem | SilenceCommandProblem): SlackMessage {
  const text = `:warning: ${slackText((s) => silenceProblemText(p, s))}`;
  return { text: truncate(text, LIMITS.fallbackText), blocks: [section(text)] };
}

export function silenceEndingMessage(ending: SilenceEnding, now: number): SlackMessage {
  const icon = ending.kind === 'ended' ? ':bell:' : ':information_source:';
  const text = `${icon} ${slackText((s) => silenceEndingText(ending, now, s))}`;
  return { text: truncate(text, LIMITS.fallbackText), blocks: [section(text)] };
}

/** The silences could not be read or changed (the store failed), or this lagbot keeps none. */
export function silenceFailureMessage(detail: string | null): SlackMessage {
  const text =
    detail === null
      ? ':warning: This lagbot keeps no silences: it runs without its store (`lagbot start` keeps them).'
      : `:warning: The silences could not be read or changed: ${escapeSlack(truncate(detail, 500))}. Nothing was changed; try again.`;
  return { text, blocks: [section(text)] };
}
