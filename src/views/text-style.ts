import { DEFAULT_CLUSTER } from '../core/protocol.js';
import { codeSpan, escapeSlack } from '../core/slack-escape.js';

/**
 * How a view writes the two kinds of outside text a sentence can hold: names that come
 * from Kafka (group, topic, member, client id, host) and Slack users. The sentences are
 * written once; Slack and the terminal differ only in their style.
 */
export interface TextStyle {
  name(text: string): string;
  user(id: string): string;
}

/** Slack mention syntax for an on-call entry: user group `S…`, user `U…`/`W…`, or `here`. */
export function mentionOf(id: string): string {
  if (/^S[A-Z0-9]+$/.test(id)) return `<!subteam^${id}>`;
  if (/^[UW][A-Z0-9]+$/.test(id)) return `<@${id}>`;
  if (id === 'here' || id === 'channel') return `<!${id}>`;
  return escapeSlack(id);
}

export const PLAIN_STYLE: TextStyle = { name: (text) => text, user: (id) => `@${id}` };

// Private-use characters never occur in lagbot's own wording, so they can mark where a
// name or a mention goes while the wording around them is escaped.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const SLOT = new RegExp(`${OPEN}(\\d+)${CLOSE}`, 'g');

/**
 * A sentence as Slack mrkdwn: lagbot's own wording is escaped (it says `>` and `&`), each
 * Kafka name becomes an escaped code span (so `*bold*_x_` is a name, not formatting, in the
 * message and in its notification text), and mentions stay live. Names and mentions are kept out
 * of the wording while it is escaped, so neither is escaped twice or left raw.
 */
export function slackText(write: (style: TextStyle) => string): string {
  const parts: string[] = [];
  const slot = (rendered: string): string => `${OPEN}${parts.push(rendered) - 1}${CLOSE}`;
  const sentence = write({ name: (text) => slot(codeSpan(text)), user: (id) => slot(mentionOf(id)) });
  return escapeSlack(sentence).replace(SLOT, (_, i: string) => parts[Number(i)] ?? '');
}

/**
 * Whether a cluster is named to users: any cluster with a name of its own. The one cluster
 * of a `kafka:` section (`default`) goes unnamed, as before clusters existed.
 */
export function isNamed(cluster: string): boolean {
  return cluster !== DEFAULT_CLUSTER;
}

/** " on prod-eu" for a named cluster, nothing for the unnamed one. */
export function onCluster(cluster: string): string {
  return isNamed(cluster) ? ` on ${cluster}` : '';
}
