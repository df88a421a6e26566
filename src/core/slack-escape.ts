/**
 * Slack parses `<...>` in message text as links and mentions (`<!channel>`,
 * `<@U123>`), so any text that comes from Kafka (group, topic, client id, host) is
 * escaped before it reaches Slack. Slack documents exactly these three entities.
 */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slash-command text arrives with the same three entities escaped; undo that once. */
export function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * A Kafka name shown in mrkdwn as inline code, so `*`, `_` and `~` in a group name are
 * not read as formatting. A backtick would end the code span early, so it is swapped
 * for a look-alike.
 */
export function codeSpan(name: string): string {
  return `\`${escapeSlack(name).replace(/`/g, 'ˋ')}\``;
}

/** Cut text to Slack's per-field limits without breaking an entity in half. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  const amp = cut.lastIndexOf('&');
  if (amp !== -1 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return `${cut}…`;
}
