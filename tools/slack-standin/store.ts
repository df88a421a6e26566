import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Block, EphemeralMessage, HomeViewRecord, StandinEvents, StoredMessage } from './types.js';

export interface ContentPatch {
  text?: string;
  blocks?: Block[];
  attachments?: unknown[];
  metadata?: unknown;
}

export type NewMessage = Omit<StoredMessage, 'type' | 'ts' | 'reply_count' | 'latest_reply' | 'edited'>;
export type NewEphemeral = Omit<EphemeralMessage, 'type' | 'ts' | 'edited'>;

export interface StoreSnapshot {
  channels: Record<string, StoredMessage[]>;
  ephemerals: EphemeralMessage[];
}

const BLOCK_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomBlockId(): string {
  return Array.from(randomBytes(5), (b) => BLOCK_ID_ALPHABET[b % BLOCK_ID_ALPHABET.length]).join('');
}

// Slack gives every stored block a block_id; interaction payloads carry it, so a click on a
// message needs it to be there.
function withBlockIds(blocks: Block[] | undefined): Block[] | undefined {
  return blocks?.map((b) => (typeof b.block_id === 'string' ? { ...b } : { ...b, block_id: randomBlockId() }));
}

// Callers get copies so a test holding an old message sees it as the user saw it, and cannot
// change the store behind its back.
const copy = <T>(value: T): T => structuredClone(value);

/** Channel messages, threads and ephemeral messages, in posting order. */
export class MessageStore {
  readonly events = new EventEmitter<StandinEvents>();
  private readonly byChannel = new Map<string, StoredMessage[]>();
  private readonly ephemeralList: EphemeralMessage[] = [];
  /** Slack keeps one Home view per user: the last one published. */
  private readonly homes = new Map<string, HomeViewRecord>();
  private lastMicros = 0;

  constructor(private readonly clock: () => number) {}

  /** A Slack-style ts ("1700000000.000100") that is strictly greater than every earlier one. */
  nextTs(): string {
    this.lastMicros = Math.max(this.clock() * 1000, this.lastMicros + 100);
    const seconds = Math.floor(this.lastMicros / 1_000_000);
    const micros = Math.floor(this.lastMicros % 1_000_000);
    return `${seconds}.${String(micros).padStart(6, '0')}`;
  }

  post(input: NewMessage): StoredMessage {
    const message: StoredMessage = { type: 'message', ...input, blocks: withBlockIds(input.blocks), ts: this.nextTs() };
    if (message.blocks === undefined) delete message.blocks;
    const list = this.byChannel.get(message.channel) ?? [];
    list.push(message);
    this.byChannel.set(message.channel, list);
    if (message.thread_ts !== undefined) {
      const parent = this.find(message.channel, message.thread_ts);
      if (parent) {
        parent.thread_ts = parent.ts;
        parent.reply_count = (parent.reply_count ?? 0) + 1;
        parent.latest_reply = message.ts;
      }
    }
    this.events.emit('message', copy(message));
    return copy(message);
  }

  /** The ts a reply to `ts` should carry: replies to a reply land in the parent's thread. */
  threadRoot(channel: string, ts: string): string | undefined {
    const target = this.find(channel, ts);
    if (!target) return undefined;
    return target.thread_ts !== undefined && target.thread_ts !== target.ts ? target.thread_ts : target.ts;
  }

  update(channel: string, ts: string, patch: ContentPatch, editor: string): StoredMessage | undefined {
    const message = this.find(channel, ts);
    if (!message) return undefined;
    applyPatch(message, patch);
    if (patch.metadata !== undefined) message.metadata = patch.metadata;
    message.edited = { user: editor, ts: this.nextTs() };
    this.events.emit('update', copy(message));
    return copy(message);
  }

  remove(channel: string, ts: string): boolean {
    const list = this.byChannel.get(channel);
    const index = list?.findIndex((m) => m.ts === ts) ?? -1;
    if (!list || index < 0) return false;
    list.splice(index, 1);
    this.events.emit('delete', { channel, ts, ephemeral: false });
    return true;
  }

  postEphemeral(input: NewEphemeral): EphemeralMessage {
    const message: EphemeralMessage = { type: 'message', ...input, blocks: withBlockIds(input.blocks), ts: this.nextTs() };
    if (message.blocks === undefined) delete message.blocks;
    this.ephemeralList.push(message);
    this.events.emit('ephemeral', copy(message));
    return copy(message);
  }

  updateEphemeral(channel: string, ts: string, patch: ContentPatch, editor: string): EphemeralMessage | undefined {
    const message = this.ephemeralList.find((m) => m.channel === channel && m.ts === ts);
    if (!message) return undefined;
    applyPatch(message, patch);
    message.edited = { user: editor, ts: this.nextTs() };
    this.events.emit('update', copy(message));
    return copy(message);
  }

  removeEphemeral(channel: string, ts: string): boolean {
    const index = this.ephemeralList.findIndex((m) => m.channel === channel && m.ts === ts);
    if (index < 0) return false;
    this.ephemeralList.splice(index, 1);
    this.events.emit('delete', { channel, ts, ephemeral: true });
    return true;
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    const found = this.find(channel, ts);
    return found && copy(found);
  }

  /** What the channel shows: top-level messages plus broadcast replies, oldest first. */
  messages(channel: string): StoredMessage[] {
    const list = this.byChannel.get(channel) ?? [];
    return copy(list.filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts || m.subtype === 'thread_broadcast'));
  }

  /** Like conversations.replies: the parent first, then its replies. Empty if `ts` is unknown. */
  thread(channel: string, ts: string): StoredMessage[] {
    const root = this.threadRoot(channel, ts);
    if (root === undefined) return [];
    const list = this.byChannel.get(channel) ?? [];
    return copy(list.filter((m) => m.ts === root || m.thread_ts === root));
  }

  ephemerals(filter: { user?: string; channel?: string } = {}): EphemeralMessage[] {
    return copy(
      this.ephemeralList.filter(
        (m) => (filter.user === undefined || m.user === filter.user) && (filter.channel === undefined || m.channel === filter.channel),
      ),
    );
  }

  ephemeral(channel: string, ts: string): EphemeralMessage | undefined {
    const found = this.ephemeralList.find((m) => m.channel === channel && m.ts === ts);
    return found && copy(found);
  }

  publishHome(user: string, view: HomeViewRecord['view']): HomeViewRecord {
    const record: HomeViewRecord = { user, id: `V${randomBlockId().toUpperCase()}${randomBlockId().toUpperCase()}`, view: { ...view, blocks: withBlockIds(view.blocks) ?? [] }, publishedAt: this.clock() };
    this.homes.set(user, record);
    this.events.emit('home', copy(record));
    return copy(record);
  }

  home(user: string): HomeViewRecord | undefined {
    const found = this.homes.get(user);
    return found && copy(found);
  }

  snapshot(): StoreSnapshot {
    return copy({ channels: Object.fromEntries(this.byChannel), ephemerals: this.ephemeralList });
  }

  private find(channel: string, ts: string): StoredMessage | undefined {
    return this.byChannel.get(channel)?.find((m) => m.ts === ts);
  }
}

function applyPatch(message: StoredMessage | EphemeralMessage, patch: ContentPatch): void {
  if (patch.text !== undefined) message.text = patch.text;
  // Slack keeps the old blocks when an update leaves them out; an empty array removes them.
  if (patch.blocks !== undefined) {
    if (patch.blocks.length === 0) delete message.blocks;
    else message.blocks = withBlockIds(patch.blocks);
  }
  if (patch.attachments !== undefined) message.attachments = patch.attachments;
}
