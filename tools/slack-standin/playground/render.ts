// The playground's renderer: Slack messages (mrkdwn, Block Kit) to a tree of plain objects
// that the page turns into DOM nodes. Everything lives inside one factory that refers to
// nothing outside itself, so the page embeds `createRenderer.toString()` and runs the very
// code the unit tests run. Text ends up in text nodes only: message text comes from Kafka
// names and must never be read as HTML.
import type { PlaygroundMessage, PlaygroundState } from './snapshot.js';

export interface ViewElement {
  tag: string;
  cls?: string;
  attrs?: Record<string, string>;
  kids?: ViewNode[];
}

/** A string is a text node. */
export type ViewNode = string | ViewElement;

export type Inline =
  | { t: 'text'; text: string }
  | { t: 'bold' | 'italic' | 'strike'; kids: Inline[] }
  | { t: 'code'; text: string }
  | { t: 'pre'; text: string }
  | { t: 'link'; href: string | null; label: string }
  | { t: 'user' | 'channel' | 'group'; id: string; label: string | null }
  | { t: 'broadcast'; name: string }
  | { t: 'emoji'; name: string; char: string };

export interface RenderContext {
  /** User id → display name, for mentions and authors. */
  users: Record<string, string>;
  botUserId: string;
  botName: string;
  /** Whoever looks at the page: their own mentions are highlighted. */
  viewerId: string;
}

export type MessageRole = 'message' | 'reply' | 'thread-root';

/** One row of a keyed list; the page replaces a row only when its node changed. */
export interface KeyedNode {
  key: string;
  node: ViewNode;
}

export type Renderer = ReturnType<typeof createRenderer>;

export function createRenderer() {
  const EMOJI: Record<string, string> = {
    rotating_light: '\u{1F6A8}',
    warning: '\u26A0\uFE0F',
    red_circle: '\u{1F534}',
    large_green_circle: '\u{1F7E2}',
    large_yellow_circle: '\u{1F7E1}',
    white_circle: '\u26AA',
    fire: '\u{1F525}',
    eyes: '\u{1F440}',
    white_check_mark: '\u2705',
    heavy_check_mark: '\u2714\uFE0F',
    x: '\u274C',
    arrow_up: '\u2B06\uFE0F',
    arrow_down: '\u2B07\uFE0F',
    mag: '\u{1F50D}',
    zzz: '\u{1F4A4}',
    chart_with_upwards_trend: '\u{1F4C8}',
    chart_with_downwards_trend: '\u{1F4C9}',
    loudspeaker: '\u{1F4E2}',
    no_bell: '\u{1F515}',
    arrows_counterclockwise: '\u{1F504}',
    busts_in_silhouette: '\u{1F465}',
    alarm_clock: '\u23F0',
    // Slack's :hourglass: is the empty one; the running one has its own name.
    hourglass: '\u231B',
    hourglass_flowing_sand: '\u23F3',
    ghost: '\u{1F47B}',
    wastebasket: '\u{1F5D1}\uFE0F',
    grey_question: '\u2754',
    satellite_antenna: '\u{1F4E1}',
    question: '\u2753',
    information_source: '\u2139\uFE0F',
    bell: '\u{1F514}',
    calendar: '\u{1F4C6}',
    no_entry: '\u26D4',
    tada: '\u{1F389}',
    '+1': '\u{1F44D}',
    thumbsup: '\u{1F44D}',
    wave: '\u{1F44B}',
    pager: '\u{1F4DF}',
    chart: '\u{1F4B9}',
    hammer_and_wrench: '\u{1F6E0}\uFE0F',
    stopwatch: '\u23F1\uFE0F',
    point_right: '\u{1F449}',
    cyclone: '\u{1F300}',
    double_vertical_bar: '\u23F8\uFE0F',
    turtle: '\u{1F422}',
    ocean: '\u{1F30A}',
    rewind: '\u23EA',
  };
  const STYLE_OF: Record<string, 'bold' | 'italic' | 'strike'> = { '*': 'bold', _: 'italic', '~': 'strike' };
  const EMOJI_AT = /:([a-z0-9_+-]+):/y;
  const WORD_CHAR = /[\p{L}\p{N}]/u;
  const SPACE = /\s/;

  /** Slack escapes exactly these three in message text; one pass, so `&amp;lt;` stays `&lt;`. */
  function decodeEntities(text: string): string {
    return text.replace(/&(lt|gt|amp);/g, (_m, name: string) => (name === 'lt' ? '<' : name === 'gt' ? '>' : '&'));
  }

  function emojiChar(name: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(EMOJI, name) ? EMOJI[name] : undefined;
  }

  function splitLabel(inner: string): [string, string | null] {
    const bar = inner.indexOf('|');
    return bar < 0 ? [inner, null] : [inner.slice(0, bar), decodeEntities(inner.slice(bar + 1))];
  }

  /** `<...>`: mentions, broadcasts, dates and links. Only web and mail links become links. */
  function control(inner: string): Inline {
    const [target, label] = splitLabel(inner);
    if (target.startsWith('@')) return { t: 'user', id: target.slice(1), label };
    if (target.startsWith('#')) return { t: 'channel', id: target.slice(1), label };
    if (target.startsWith('!subteam^')) return { t: 'group', id: target.slice('!subteam^'.length), label };
    if (target.startsWith('!')) {
      const name = target.slice(1).split('^')[0] ?? '';
      if (name === 'here' || name === 'channel' || name === 'everyone') return { t: 'broadcast', name };
      return { t: 'text', text: label ?? decodeEntities(target) };
    }
    const url = decodeEntities(target);
    return { t: 'link', href: /^(https?:\/\/|mailto:)/i.test(url) ? url : null, label: label ?? url };
  }

  /**
   * Where a `*`, `_` or `~` opened at `i` closes, or -1. As in Slack, markers hug their text
   * and sit outside words, so `user_events_consumer` keeps its underscores; a span does not
   * cross a line.
   */
  function closingMarker(s: string, i: number, marker: string): number {
    const before = s[i - 1];
    const next = s[i + 1];
    if ((before !== undefined && WORD_CHAR.test(before)) || next === undefined || SPACE.test(next) || next === marker) return -1;
    for (let j = i + 2; j < s.length; j++) {
      const c = s[j] as string;
      if (c === '\n') return -1;
      const after = s[j + 1];
      if (c === marker && !SPACE.test(s[j - 1] as string) && (after === undefined || !WORD_CHAR.test(after))) return j;
    }
    return -1;
  }

  function parseInline(s: string): Inline[] {
    const out: Inline[] = [];
    let text = '';
    const flush = (): void => {
      if (text !== '') out.push({ t: 'text', text: decodeEntities(text) });
      text = '';
    };
    let i = 0;
    while (i < s.length) {
      const c = s[i] as string;
      if (c === '`') {
        const end = s.indexOf('`', i + 1);
        if (end > i + 1 && !s.slice(i + 1, end).includes('\n')) {
          flush();
          out.push({ t: 'code', text: decodeEntities(s.slice(i + 1, end)) });
          i = end + 1;
          continue;
        }
      } else if (c === '<') {
        const end = s.indexOf('>', i + 1);
        if (end > i) {
          flush();
          out.push(control(s.slice(i + 1, end)));
          i = end + 1;
          continue;
        }
      } else if (c === '*' || c === '_' || c === '~') {
        const end = closingMarker(s, i, c);
        if (end > 0) {
          flush();
          out.push({ t: STYLE_OF[c] as 'bold', kids: parseInline(s.slice(i + 1, end)) });
          i = end + 1;
          continue;
        }
      } else if (c === ':') {
        EMOJI_AT.lastIndex = i;
        const match = EMOJI_AT.exec(s);
        const char = match ? emojiChar(match[1] as string) : undefined;
        if (match && char !== undefined) {
          flush();
          out.push({ t: 'emoji', name: match[1] as string, char });
          i += match[0].length;
          continue;
        }
      }
      text += c;
      i += 1;
    }
    flush();
    return out;
  }

  /** mrkdwn to tokens. Code blocks are blocks of their own, so the newlines around them go. */
  function parseMrkdwn(text: string): Inline[] {
    const out: Inline[] = [];
    const fence = /```([\s\S]*?)```/g;
    let last = 0;
    let leadingNewline = false;
    for (let m = fence.exec(text); m !== null; m = fence.exec(text)) {
      let before = text.slice(last, m.index);
      if (leadingNewline) before = before.replace(/^\n/, '');
      out.push(...parseInline(before.replace(/\n$/, '')));
      out.push({ t: 'pre', text: decodeEntities((m[1] as string).replace(/^\n/, '').replace(/\n$/, '')) });
      last = m.index + m[0].length;
      leadingNewline = true;
    }
    let rest = text.slice(last);
    if (leadingNewline) rest = rest.replace(/^\n/, '');
    out.push(...parseInline(rest));
    return out;
  }

  function el(tag: string, cls: string | null, kids: ViewNode[] = [], attrs?: Record<string, string>): ViewElement {
    const node: ViewElement = { tag, kids };
    if (cls) node.cls = cls;
    if (attrs) node.attrs = attrs;
    return node;
  }

  function emojiNode(name: string, char: string): ViewElement {
    return el('span', 'emoji', [char], { title: `:${name}:` });
  }

  function inlineNodes(tokens: Inline[], ctx: RenderContext): ViewNode[] {
    return tokens.map((tok): ViewNode => {
      switch (tok.t) {
        case 'text':
          return tok.text;
        case 'bold':
          return el('b', null, inlineNodes(tok.kids, ctx));
        case 'italic':
          return el('i', null, inlineNodes(tok.kids, ctx));
        case 'strike':
          return el('s', null, inlineNodes(tok.kids, ctx));
        case 'code':
          return el('code', null, [tok.text]);
        case 'pre':
          return el('pre', null, [tok.text]);
        case 'link':
          return tok.href === null ? tok.label : el('a', null, [tok.label], { href: tok.href, target: '_blank', rel: 'noopener noreferrer' });
        case 'user': {
          const name = Object.prototype.hasOwnProperty.call(ctx.users, tok.id) ? ctx.users[tok.id] : undefined;
          const cls = tok.id === ctx.viewerId ? 'mention mention-me' : 'mention';
          return el('span', cls, [`@${name ?? tok.label ?? tok.id}`], { 'data-user-id': tok.id });
        }
        case 'channel':
          return el('span', 'mention', [`#${tok.label ?? tok.id}`]);
        case 'group':
          return el('span', 'mention mention-group', [`@${(tok.label ?? tok.id).replace(/^@/, '')}`]);
        case 'broadcast':
          return el('span', 'mention mention-broadcast', [`@${tok.name}`]);
        case 'emoji':
          return emojiNode(tok.name, tok.char);
      }
      return '';
    });
  }

  function mrkdwn(text: string, ctx: RenderContext): ViewElement {
    return el('div', 'mrkdwn', inlineNodes(parseMrkdwn(text), ctx));
  }

  /** plain_text: entities decoded and, with `emoji`, shortcodes shown; nothing else is markup. */
  function plainText(text: string, emoji = true): ViewNode[] {
    const decoded = decodeEntities(text);
    if (!emoji) return [decoded];
    const out: ViewNode[] = [];
    let last = 0;
    const any = /:([a-z0-9_+-]+):/g;
    for (let m = any.exec(decoded); m !== null; m = any.exec(decoded)) {
      const char = emojiChar(m[1] as string);
      if (char === undefined) {
        any.lastIndex = m.index + 1;
        continue;
      }
      if (m.index > last) out.push(decoded.slice(last, m.index));
      out.push(emojiNode(m[1] as string, char));
      last = m.index + m[0].length;
    }
    if (last < decoded.length) out.push(decoded.slice(last));
    return out;
  }

  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');

  function textObject(obj: unknown, ctx: RenderContext): ViewElement {
    if (!isObject(obj)) return el('span', null);
    if (obj.type === 'mrkdwn') return mrkdwn(str(obj.text), ctx);
    return el('div', 'plain', plainText(str(obj.text), obj.emoji !== false));
  }

  /** Flattened text of a tree: what a reader sees, e.g. for a confirm prompt. */
  function textOf(node: ViewNode | ViewNode[]): string {
    if (Array.isArray(node)) return node.map(textOf).join('');
    if (typeof node === 'string') return node;
    return textOf(node.kids ?? []);
  }

  function confirmPrompt(confirm: Record<string, unknown>, ctx: RenderContext): string {
    const title = isObject(confirm.title) ? textOf(plainText(str(confirm.title.text))) : '';
    const body = isObject(confirm.text) ? textOf(textObject(confirm.text, ctx)) : '';
    return [title, body].filter((s) => s !== '').join('\n\n') || 'Are you sure?';
  }

  function button(element: Record<string, unknown>, ctx: RenderContext): ViewElement {
    const style = element.style === 'primary' ? ' btn-primary' : element.style === 'danger' ? ' btn-danger' : '';
    const attrs: Record<string, string> = { type: 'button', 'data-testid': 'button', 'data-action-id': str(element.action_id) };
    if (typeof element.value === 'string') attrs['data-value'] = element.value;
    if (isObject(element.confirm)) attrs['data-confirm'] = confirmPrompt(element.confirm, ctx);
    const label = isObject(element.text) ? plainText(str(element.text.text)) : ['Button'];
    return el('button', `btn${style}`, label, attrs);
  }

  function element(e: unknown, ctx: RenderContext): ViewNode {
    if (!isObject(e)) return '';
    if (e.type === 'button') return button(e, ctx);
    if (e.type === 'mrkdwn' || e.type === 'plain_text') return textObject(e, ctx);
    if (e.type === 'image') return el('span', 'b-image', [`[image: ${str(e.alt_text)}]`]);
    return el('span', 'b-unsupported', [`[${str(e.type) || 'element'}]`]);
  }

  function block(b: unknown, ctx: RenderContext): ViewNode {
    if (!isObject(b)) return '';
    const kids = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
    switch (b.type) {
      case 'header':
        return el('div', 'b-header', isObject(b.text) ? plainText(str(b.text.text), b.text.emoji !== false) : []);
      case 'section': {
        const parts: ViewNode[] = [];
        if (b.text !== undefined) parts.push(textObject(b.text, ctx));
        const fields = kids(b.fields);
        if (fields.length > 0) parts.push(el('div', 'b-fields', fields.map((f) => el('div', 'b-field', [textObject(f, ctx)]))));
        const main = el('div', 'b-section-main', parts);
        return b.accessory === undefined ? el('div', 'b-section', [main]) : el('div', 'b-section', [main, el('div', 'b-accessory', [element(b.accessory, ctx)])]);
      }
      case 'context':
        return el('div', 'b-context', kids(b.elements).map((e) => element(e, ctx)));
      case 'divider':
        return el('hr', 'b-divider');
      case 'actions':
        return el('div', 'b-actions', kids(b.elements).map((e) => element(e, ctx)));
      case 'image':
        return el('div', 'b-image', [`[image: ${str(b.alt_text)}]`]);
      default:
        return el('div', 'b-unsupported', [`[${str(b.type) || 'unknown'} block]`]);
    }
  }

  function blocks(list: unknown[], ctx: RenderContext): ViewNode[] {
    return list.map((b) => {
      try {
        return block(b, ctx);
      } catch {
        // One malformed block must not take the whole channel down with it.
        return el('div', 'b-unsupported', ['[block could not be shown]']);
      }
    });
  }

  /** Slack ts values carry 16 significant digits, more than a double holds, so compare in parts. */
  function compareTs(a: string, b: string): number {
    const [as, am = ''] = a.split('.');
    const [bs, bm = ''] = b.split('.');
    return Number(as) - Number(bs) || (am < bm ? -1 : am > bm ? 1 : 0);
  }

  function clock(ts: string): string {
    const d = new Date(Number(ts.split('.')[0]) * 1000);
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  }

  function authorOf(m: PlaygroundMessage, ctx: RenderContext): { name: string; bot: boolean } {
    if (m.bot_id !== undefined || m.user === ctx.botUserId) return { name: ctx.botName, bot: true };
    const id = m.user ?? '';
    const known = Object.prototype.hasOwnProperty.call(ctx.users, id) ? ctx.users[id] : undefined;
    return { name: known ?? (id || 'someone'), bot: false };
  }

  /** A shared file as Slack shows it: an image inline with its title, anything else as a link. */
  function fileNode(f: unknown): ViewNode {
    if (!isObject(f)) return '';
    const url = str(f.url_private);
    const title = str(f.title) || str(f.name);
    // Only the stand-in's own http(s) URLs: nothing in a message may become a script URL.
    const safe = /^https?:\/\//.test(url) ? url : '';
    const caption = el('div', 'file-title', [title]);
    if (str(f.mimetype).startsWith('image/') && safe) {
      return el('div', 'file file-image-box', [caption, el('img', 'file-image', [], { src: safe, alt: title, 'data-testid': 'file-image', 'data-file-id': str(f.id) })]);
    }
    return el('div', 'file', [caption, el('a', 'file-link', [str(f.name)], { href: safe || '#', 'data-testid': 'file', 'data-file-id': str(f.id), target: '_blank' })]);
  }

  function messageNode(m: PlaygroundMessage, ctx: RenderContext, role: MessageRole): ViewElement {
    const author = authorOf(m, ctx);
    const meta: ViewNode[] = [el('span', 'author', [author.name])];
    if (author.bot) meta.push(el('span', 'badge', ['APP']));
    meta.push(el('span', 'time', [clock(m.ts)], { title: new Date(Number(m.ts.split('.')[0]) * 1000).toISOString() }));
    if (m.edited) meta.push(el('span', 'edited', ['(edited)'], { 'data-testid': 'edited' }));

    const body: ViewNode[] = [el('div', 'meta', meta)];
    if (m.ephemeral) body.push(el('div', 'ephemeral-note', [el('span', 'eye', ['\u{1F441}\uFE0F']), 'Only visible to you'], { 'data-testid': 'ephemeral-marker' }));
    if (m.subtype === 'thread_broadcast' && role === 'message' && m.thread_ts !== undefined) {
      body.push(el('button', 'link broadcast-note', ['replied to a thread'], { type: 'button', 'data-thread-ts': m.thread_ts }));
    }
    const content = Array.isArray(m.blocks) && m.blocks.length > 0 ? blocks(m.blocks, ctx) : [mrkdwn(m.text ?? '', ctx)];
    body.push(el('div', 'content', content));
    const files = 'files' in m && Array.isArray(m.files) ? m.files : [];
    if (files.length > 0) body.push(el('div', 'files', files.map(fileNode)));
    const replies = m.reply_count ?? 0;
    if (role === 'message' && replies > 0) {
      const last = m.latest_reply !== undefined ? [el('span', 'last-reply', [`Last reply ${clock(m.latest_reply)}`])] : [];
      body.push(
        el('div', 'thread-summary', [
          el('button', 'link thread-link', [replies === 1 ? '1 reply' : `${replies} replies`], { type: 'button', 'data-testid': 'thread-link', 'data-thread-ts': m.ts }),
          ...last,
        ]),
      );
    }
    const initial = author.name.slice(0, 1).toUpperCase() || '?';
    const attrs: Record<string, string> = { 'data-testid': role, 'data-ts': m.ts, 'data-channel': m.channel };
    if (m.ephemeral) attrs['data-ephemeral'] = 'true';
    const cls = `msg${m.ephemeral ? ' msg-ephemeral' : ''}${author.bot ? ' msg-bot' : ''}`;
    return el('div', cls, [el('div', `avatar${author.bot ? ' avatar-bot' : ''}`, [initial], { 'aria-hidden': 'true' }), el('div', 'msg-body', body)], attrs);
  }

  function contextOf(state: PlaygroundState): RenderContext {
    return { users: state.users, botUserId: state.bot.userId, botName: state.bot.name, viewerId: state.user.id };
  }

  function keyed(list: PlaygroundMessage[], ctx: RenderContext, role: MessageRole): KeyedNode[] {
    return [...list].sort((a, b) => compareTs(a.ts, b.ts)).map((m) => ({ key: `${m.ephemeral ? 'e' : 'm'}${m.ts}`, node: messageNode(m, ctx, role) }));
  }

  /** The channel as the viewer sees it: top-level messages with their own ephemerals in between. */
  function timeline(state: PlaygroundState): KeyedNode[] {
    const roots = new Set(state.messages.map((m) => m.ts));
    const own = state.ephemerals.filter((e) => e.thread_ts === undefined || !roots.has(e.thread_ts)).map((e) => ({ ...e, ephemeral: true }));
    return keyed([...state.messages, ...own], contextOf(state), 'message');
  }

  /** A thread's root and replies (ephemerals included), or null once the root is gone. */
  function threadView(state: PlaygroundState, ts: string): { root: KeyedNode; replies: KeyedNode[] } | null {
    const root = state.messages.find((m) => m.ts === ts);
    if (!root) return null;
    const ctx = contextOf(state);
    const own = state.ephemerals.filter((e) => e.thread_ts === ts).map((e) => ({ ...e, ephemeral: true }));
    return { root: { key: `m${root.ts}`, node: messageNode(root, ctx, 'thread-root') }, replies: keyed([...(root.replies ?? []), ...own], ctx, 'reply') };
  }

  return {
    EMOJI,
    decodeEntities,
    emojiChar,
    parseMrkdwn,
    inlineNodes,
    mrkdwn,
    plainText,
    blocks,
    textOf,
    compareTs,
    messageNode,
    contextOf,
    timeline,
    threadView,
  };
}
