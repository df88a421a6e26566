import type { AccessAction, Grantee, Refusal, Unreadable } from '../core/access.js';
import { slackText, type TextStyle } from './text-style.js';

/** The sentences of the access rules: what a refused person is told, privately. */

function granteeText(g: Grantee, s: TextStyle): string {
  switch (g.kind) {
    case 'everyone':
      return 'everyone';
    case 'user':
    case 'usergroup':
      return s.user(g.id);
    case 'channel-members':
      return "the members of the incident's channel";
    case 'channel':
      return `<#${g.id}>`;
  }
}

function unreadableText(u: Unreadable, s: TextStyle): string {
  return u.what.kind === 'usergroup' ? `who is in ${s.user(u.what.id)} (${u.error})` : `who is in <#${u.what.channel}> (${u.error})`;
}

/** A list of grantees in words: "a, b and c". */
function listed(grantees: readonly Grantee[], s: TextStyle): string {
  const words = grantees.map((g) => granteeText(g, s));
  return words.length <= 1 ? (words[0] ?? 'nobody') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

/** Why a click on an incident (or a change to silences: `what` says what was asked) did nothing. */
export function actionRefusedText(action: AccessAction, refusal: Refusal, what: (s: TextStyle) => string = () => `${action} this incident`): string {
  return slackText((s) => actionRefusedSentence(action, refusal, s, what));
}

/** The same, in a given style (plain text under a modal's input, or mrkdwn). */
export function actionRefusedSentence(action: AccessAction, refusal: Refusal, s: TextStyle, what: (s: TextStyle) => string = () => `${action} this incident`): string {
  return refusal.unreadable.length > 0
    ? `lagbot could not check whether you may ${what(s)}: Slack did not say ${refusal.unreadable.map((u) => unreadableText(u, s)).join(', ')}. Nothing changed; try again in a minute, or ask whoever runs lagbot.`
    : `You may not ${what(s)}: ${s.name(refusal.rule)} lets in ${listed(refusal.grantees, s)}. Nothing changed.`;
}

/**
 * Why `/lag` shows nothing. The words depend on the rules alone, never on the request's
 * group or on what Kafka holds, so they cannot tell whether the group exists.
 */
export function queryRefusedText(refusal: Refusal): string {
  return slackText((s) =>
    refusal.unreadable.length > 0
      ? `lagbot could not check what you may read with /lag: Slack did not say ${refusal.unreadable.map((u) => unreadableText(u, s)).join(', ')}. Try again in a minute, or ask whoever runs lagbot.`
      : `You may not read that with /lag here: the access rules (${s.name(refusal.rule)}) do not let you in from this channel.`,
  );
}
