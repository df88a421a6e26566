import type { KnownBlock } from '@slack/types';
import { escapeSlack, truncate } from '../core/slack-escape.js';

/** Block Kit limits lagbot has to stay inside (api.slack.com/reference/block-kit). */
export const LIMITS = {
  blocksPerMessage: 50,
  /** A Home tab (views.publish) holds twice a message's blocks. */
  blocksPerHomeView: 100,
  sectionText: 3000,
  headerText: 150,
  fieldText: 2000,
  fieldsPerSection: 10,
  buttonValue: 2000,
  contextElements: 10,
  /** Slack truncates long fallback text in notifications anyway. */
  fallbackText: 3000,
} as const;

export function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: truncate(escapeSlack(text), LIMITS.headerText), emoji: true } };
}

/** mrkdwn section; callers escape Kafka-derived parts before building `text`. */
export function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) } };
}

export function fields(pairs: ReadonlyArray<readonly [string, string]>): KnownBlock {
  return {
    type: 'section',
    fields: pairs
      .slice(0, LIMITS.fieldsPerSection)
      .map(([label, value]) => ({ type: 'mrkdwn' as const, text: truncate(`*${label}*\n${value}`, LIMITS.fieldText) })),
  };
}

export function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) }] };
}

export const divider: KnownBlock = { type: 'divider' };

/**
 * A titled code block holding as many table lines as fit in one section, so a group
 * with 1,000 partitions still yields a valid message. Lines are raw (unescaped) text.
 */
export function fittedTable(
  title: string,
  headerLine: string,
  rows: readonly string[],
  maxRows: number,
): { block: KnownBlock; shown: number; omitted: number } {
  const open = `${title}\n\`\`\`\n${escapeSlack(headerLine)}\n`;
  const close = '```';
  let text = open;
  let shown = 0;
  for (const row of rows) {
    const line = `${escapeSlack(row)}\n`;
    if (shown >= maxRows || text.length + line.length + close.length > LIMITS.sectionText) break;
    text += line;
    shown += 1;
  }
  return { block: { type: 'section', text: { type: 'mrkdwn', text: text + close } }, shown, omitted: rows.length - shown };
}
