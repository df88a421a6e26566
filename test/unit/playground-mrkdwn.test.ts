import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeGroupLag } from '../../src/core/lag.js';
import { playgroundPage, rendererSource } from '../../tools/slack-standin/playground/page.js';
import { createRenderer } from '../../tools/slack-standin/playground/render.js';
import type { RenderContext, Renderer, ViewElement, ViewNode } from '../../tools/slack-standin/playground/render.js';
import type { PlaygroundState } from '../../tools/slack-standin/playground/snapshot.js';
import type { StoredMessage } from '../../tools/slack-standin/types.js';
import { incidentRootMessage } from '../../src/views/incident-message.js';
import { groupLagMessage } from '../../src/views/lag-message.js';
import { findingsOfRead } from '../support/findings.js';
import { caseStudyOffsets, caseStudySnapshot } from '../support/fixtures.js';
import { Scenario, ramp } from '../support/scripted.js';

const r = createRenderer();
const ctx: RenderContext = { users: { U0ALICE: 'alice' }, botUserId: 'U0LAGBOT', botName: 'lagbot', viewerId: 'U0ME' };

/** Every element of a tree, depth first. */
function elements(node: ViewNode | ViewNode[]): ViewElement[] {
  if (Array.isArray(node)) return node.flatMap(elements);
  if (typeof node === 'string') return [];
  return [node, ...elements(node.kids ?? [])];
}

const byTag = (node: ViewNode | ViewNode[], tag: string): ViewElement[] => elements(node).filter((e) => e.tag === tag);

describe('mrkdwn tokens', () => {
  it('reads bold, italic, strike and inline code, nested too', () => {
    expect(r.parseMrkdwn('*bold* _it_ ~gone~ `x < y`')).toEqual([
      { t: 'bold', kids: [{ t: 'text', text: 'bold' }] },
      { t: 'text', text: ' ' },
      { t: 'italic', kids: [{ t: 'text', text: 'it' }] },
      { t: 'text', text: ' ' },
      { t: 'strike', kids: [{ t: 'text', text: 'gone' }] },
      { t: 'text', text: ' ' },
      { t: 'code', text: 'x < y' },
    ]);
    expect(r.parseMrkdwn('*State*\nStable')).toEqual([{ t: 'bold', kids: [{ t: 'text', text: 'State' }] }, { t: 'text', text: '\nStable' }]);
    expect(r.parseMrkdwn('*a _b_*')).toEqual([{ t: 'bold', kids: [{ t: 'text', text: 'a ' }, { t: 'italic', kids: [{ t: 'text', text: 'b' }] }] }]);
  });

  it('leaves markers inside words and unclosed markers alone', () => {
    expect(r.parseMrkdwn('user_events_consumer')).toEqual([{ t: 'text', text: 'user_events_consumer' }]);
    expect(r.parseMrkdwn('2 * 3 * 4')).toEqual([{ t: 'text', text: '2 * 3 * 4' }]);
    expect(r.parseMrkdwn('*no close')).toEqual([{ t: 'text', text: '*no close' }]);
    expect(r.parseMrkdwn('*not\nacross lines*')).toEqual([{ t: 'text', text: '*not\nacross lines*' }]);
  });

  it('makes code blocks blocks of their own, without the newlines around the fences', () => {
    const text = '*Lag by partition*, largest first\n```\nPARTITION  LAG\nuser-events-1  4,442,768\n```\nafter';
    expect(r.parseMrkdwn(text)).toEqual([
      { t: 'bold', kids: [{ t: 'text', text: 'Lag by partition' }] },
      { t: 'text', text: ', largest first' },
      { t: 'pre', text: 'PARTITION  LAG\nuser-events-1  4,442,768' },
      { t: 'text', text: 'after' },
    ]);
    // Nothing inside a code block is markup.
    expect(r.parseMrkdwn('```*x* :fire: &lt;b&gt;```')).toEqual([{ t: 'pre', text: '*x* :fire: <b>' }]);
  });

  it('reads links, mentions, group mentions and broadcasts', () => {
    expect(r.parseMrkdwn('<https://example.com/a?b=1&amp;c=2|the docs>')).toEqual([{ t: 'link', href: 'https://example.com/a?b=1&c=2', label: 'the docs' }]);
    expect(r.parseMrkdwn('<https://example.com>')).toEqual([{ t: 'link', href: 'https://example.com', label: 'https://example.com' }]);
    expect(r.parseMrkdwn('<@U0ALICE> <!subteam^S0ONCALL> <!subteam^S1|@sre> <!here> <!channel> <#C1|ops>')).toEqual([
      { t: 'user', id: 'U0ALICE', label: null },
      { t: 'text', text: ' ' },
      { t: 'group', id: 'S0ONCALL', label: null },
      { t: 'text', text: ' ' },
      { t: 'group', id: 'S1', label: '@sre' },
      { t: 'text', text: ' ' },
      { t: 'broadcast', name: 'here' },
      { t: 'text', text: ' ' },
      { t: 'broadcast', name: 'channel' },
      { t: 'text', text: ' ' },
      { t: 'channel', id: 'C1', label: 'ops' },
    ]);
  });

  it('never links anything but web and mail addresses', () => {
    expect(r.parseMrkdwn('<javascript:alert(1)|click me>')).toEqual([{ t: 'link', href: null, label: 'click me' }]);
    const nodes = r.inlineNodes(r.parseMrkdwn('<javascript:alert(1)|click me>'), ctx);
    expect(nodes).toEqual(['click me']);
  });

  it('decodes the three entities once, to text', () => {
    expect(r.decodeEntities('&lt;script&gt; &amp;lt; &amp;')).toBe('<script> &lt; &');
    const tree = r.mrkdwn('&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;', ctx);
    expect(tree.kids).toEqual(['<script>alert(1)</script> <img src=x onerror=alert(1)>']);
    expect(elements(tree).map((e) => e.tag)).toEqual(['div']);
  });

  it('shows emoji lagbot uses, leaves unknown shortcodes and clock times as text', () => {
    expect(r.parseMrkdwn(':rotating_light: PAGE')).toEqual([{ t: 'emoji', name: 'rotating_light', char: '🚨' }, { t: 'text', text: ' PAGE' }]);
    expect(r.parseMrkdwn(':no_such_emoji: at 03:14:05')).toEqual([{ t: 'text', text: ':no_such_emoji: at 03:14:05' }]);
    expect(r.textOf(r.plainText('DONE :white_check_mark: :nope:'))).toBe('DONE ✅ :nope:');
    expect(r.textOf(r.plainText(':fire:', false))).toBe(':fire:');
  });

  it('knows every shortcode the views use', () => {
    const dir = fileURLToPath(new URL('../../src/views/', import.meta.url));
    const used = new Set(readdirSync(dir).flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/:([a-z_]+):/g)].map((m) => m[1] as string)));
    expect(used.size).toBeGreaterThan(15);
    for (const name of used) expect(r.emojiChar(name), `:${name}:`).toBeDefined();
    expect(r.emojiChar('constructor')).toBeUndefined();
  });

  it('names mentioned users, highlights the viewer and broadcasts', () => {
    const tree = r.mrkdwn('<@U0ALICE> <@U0ME> <@U0BOB> <!here>', ctx);
    const mentions = elements(tree).filter((e) => e.cls?.includes('mention'));
    expect(mentions.map((m) => r.textOf(m))).toEqual(['@alice', '@U0ME', '@U0BOB', '@here']);
    expect(mentions.map((m) => m.cls)).toEqual(['mention', 'mention mention-me', 'mention', 'mention mention-broadcast']);
  });
});

describe('Block Kit', () => {
  it("renders lagbot's /lag answer: header, fields, hints, the table as <pre>, the button", () => {
    const lag = computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), Date.UTC(2026, 10, 27, 3, 31));
    const message = groupLagMessage(lag, findingsOfRead(lag), { commandText: 'user-events-consumer' });
    const tree = r.blocks(message.blocks, ctx);
    expect(r.textOf(byTag(tree, 'div').find((d) => d.cls === 'b-header') ?? '')).toBe('Consumer lag: user-events-consumer');
    const fields = elements(tree).filter((e) => e.cls === 'b-field');
    expect(fields.map((f) => r.textOf(f))).toContain('State\nStable');
    const table = byTag(tree, 'pre').map((p) => r.textOf(p)).join('\n');
    expect(table).toMatch(/user-events-1\s+4,442,768\s+-\s+8,100,442\s+12,543,210/);
    expect(elements(tree).some((e) => e.tag === 'span' && e.cls === 'emoji')).toBe(true);
    const [button] = byTag(tree, 'button');
    expect(button?.attrs).toMatchObject({ 'data-testid': 'button', 'data-action-id': 'lag_post_to_channel', 'data-value': 'user-events-consumer' });
    expect(elements(tree).find((e) => e.cls === 'b-context')).toBeDefined();
  });

  it("renders the incident's buttons with their styles and the confirm prompt", () => {
    const s = new Scenario();
    s.checks(ramp(51_000, 90_000, 11));
    s.checks([2_500_000]);
    const tree = r.blocks(incidentRootMessage(s.incident!).blocks, ctx);
    const buttons = byTag(tree, 'button');
    expect(buttons.map((b) => [r.textOf(b), b.cls])).toEqual([
      ['Acknowledge', 'btn btn-primary'],
      ['Snooze 30 min', 'btn'],
      ['Snooze 2 h', 'btn'],
      ['Add responder', 'btn'],
      ['Reassign', 'btn'],
      ['Resolve', 'btn btn-danger'],
    ]);
    expect(buttons[5]?.attrs?.['data-confirm']).toBe('Resolve this incident?\n\nlagbot opens a new incident if lag is still over the thresholds at the next check.');
    expect(r.textOf(tree)).toContain('2,500,000 📈');
  });

  it('shows dividers, accessories, and unknown or broken blocks without throwing', () => {
    const tree = r.blocks(
      [
        { type: 'divider' },
        { type: 'section', text: { type: 'plain_text', text: 'a &amp; b' }, accessory: { type: 'button', action_id: 'go', text: { type: 'plain_text', text: 'Go' } } },
        { type: 'rich_text', elements: [] },
        null,
        { type: 'section', fields: 'not a list' },
      ],
      ctx,
    );
    expect(byTag(tree, 'hr')).toHaveLength(1);
    expect(r.textOf(tree)).toContain('a & b');
    expect(byTag(tree, 'button')[0]?.attrs?.['data-action-id']).toBe('go');
    expect(r.textOf(tree)).toContain('[rich_text block]');
  });
});

function message(ts: string, text: string, extra: Partial<StoredMessage> = {}): StoredMessage {
  return { type: 'message', channel: 'C0GENERAL', ts, text, user: 'U0LAGBOT', bot_id: 'B0LAGBOT', source: 'web_api', ...extra };
}

function state(partial: Partial<PlaygroundState>): PlaygroundState {
  return {
    title: 't',
    channel: { id: 'C0GENERAL', name: 'general' },
    user: { id: 'U0ME', name: 'me' },
    bot: { userId: 'U0LAGBOT', name: 'lagbot' },
    banner: null,
    notes: [],
    messages: [],
    ephemerals: [],
    users: {},
    lagbot: { answeredAt: null, failedAt: null, recent: false },
    home: null,
    modal: null,
    now: 0,
    ...partial,
  };
}

describe('channel and thread views', () => {
  const root = { ...message('1700000000.000100', 'root', { thread_ts: '1700000000.000100', reply_count: 2, latest_reply: '1700000002.000100' }), replies: [] as StoredMessage[] };
  root.replies = [message('1700000001.000100', 'one', { thread_ts: root.ts }), message('1700000002.000100', 'two', { thread_ts: root.ts })];
  const edited = { ...message('1700000003.000100', 'changed', { edited: { user: 'U0LAGBOT', ts: '1700000004.000100' } }), replies: [] };
  const mine = { type: 'message' as const, channel: 'C0GENERAL', ts: '1700000000.900000', user: 'U0ME', text: 'only you', source: 'response_url' as const, bot_id: 'B0LAGBOT' };
  const s = state({ messages: [edited, root], ephemerals: [mine] });

  it('orders the channel by ts with the viewer’s ephemerals in between, marked', () => {
    const rows = r.timeline(s);
    expect(rows.map((row) => row.key)).toEqual(['m1700000000.000100', 'e1700000000.900000', 'm1700000003.000100']);
    const eph = rows[1]!.node as ViewElement;
    expect(eph.attrs).toMatchObject({ 'data-testid': 'message', 'data-ephemeral': 'true', 'data-ts': mine.ts });
    expect(elements(eph).some((e) => e.attrs?.['data-testid'] === 'ephemeral-marker')).toBe(true);
    expect(r.textOf(rows[0]!.node)).toContain('2 replies');
    expect(elements(rows[2]!.node).some((e) => e.attrs?.['data-testid'] === 'edited')).toBe(true);
    expect(r.textOf(rows[2]!.node)).toContain('lagbot');
  });

  it('builds a thread: root, then replies', () => {
    const view = r.threadView(s, root.ts)!;
    expect((view.root.node as ViewElement).attrs?.['data-testid']).toBe('thread-root');
    expect(view.replies.map((x) => r.textOf(x.node).includes('one') || r.textOf(x.node).includes('two'))).toEqual([true, true]);
    expect(view.replies.every((x) => (x.node as ViewElement).attrs?.['data-testid'] === 'reply')).toBe(true);
    expect(r.threadView(s, '1.000001')).toBeNull();
  });

  it('compares ts values beyond double precision', () => {
    expect(r.compareTs('1700000000.000101', '1700000000.000100')).toBeGreaterThan(0);
    expect(r.compareTs('999.999999', '1000.000000')).toBeLessThan(0);
  });
});

describe('the page runs the same renderer', () => {
  const embedded = new Function(`${rendererSource()}\nreturn renderer;`)() as Renderer;

  it('gives the same trees as the module', () => {
    const samples = ['*bold* _it_ `code` <@U0ALICE> :fire: &lt;script&gt;', '```\ntable\n```', '<https://example.com|docs> <!here>'];
    for (const text of samples) expect(embedded.mrkdwn(text, ctx)).toEqual(r.mrkdwn(text, ctx));
    const lag = computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), 0);
    expect(embedded.blocks(groupLagMessage(lag, findingsOfRead(lag)).blocks, ctx)).toEqual(r.blocks(groupLagMessage(lag, findingsOfRead(lag)).blocks, ctx));
  });

  it('closes its script element only at the end', () => {
    const html = playgroundPage({ title: '<b>demo</b>', nonce: 'abc' });
    expect(html.match(/<\/script/gi)).toHaveLength(1);
    expect(html).toContain('&lt;b&gt;demo&lt;/b&gt;');
    expect(html).toContain('<script nonce="abc">');
  });
});
