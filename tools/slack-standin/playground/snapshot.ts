import type { Note } from './board.js';
import type { LagbotStatus } from './liveness.js';
import type { ChannelInfo, EphemeralMessage, HomeViewRecord, StoredMessage, UserInfo } from '../types.js';

/** A message as the page receives it; `ephemeral` marks one only the viewer sees. */
export type PlaygroundMessage = (StoredMessage | EphemeralMessage) & {
  ephemeral?: boolean;
  reply_count?: number;
  latest_reply?: string;
  subtype?: string;
  replies?: StoredMessage[];
};

export interface ChannelMessage extends StoredMessage {
  /** The thread's replies, oldest first; empty for a message without a thread. */
  replies: StoredMessage[];
}

/** The viewer's open modal as the page draws it: its title, buttons, and its one user picker. */
export interface PlaygroundModal {
  id: string;
  title: string;
  submit: string;
  close: string;
  label: string;
  hint: string | null;
  /** A multi_users_select picks several; a users_select one. */
  multiple: boolean;
  /** What the app's last `response_action: errors` said, joined. */
  error: string | null;
  /** Whom the picker offers: every user the workspace knows. */
  people: UserInfo[];
}

/** Everything the page shows, in one JSON document. */
export interface PlaygroundState {
  title: string;
  channel: ChannelInfo;
  /** The person at the page: commands and clicks come from this user. */
  user: UserInfo;
  bot: { userId: string; name: string };
  banner: string | null;
  notes: Note[];
  /** Top-level messages (and broadcast replies), oldest first. */
  messages: ChannelMessage[];
  /** The viewer's ephemeral messages in the channel, oldest first. */
  ephemerals: EphemeralMessage[];
  /** Names of every user who wrote or is mentioned. */
  users: Record<string, string>;
  lagbot: LagbotStatus;
  /** The viewer's Home tab of lagbot as last published; null until lagbot published one. */
  home: { blocks: HomeViewRecord['view']['blocks']; publishedAt: number } | null;
  /** The viewer's open modal, if lagbot opened one for them. */
  modal: PlaygroundModal | null;
  /** The stand-in's clock when the snapshot was taken (ms). */
  now: number;
}

/** What a snapshot is built from: the state's own fields, plus the store's read methods. */
export interface SnapshotSource extends Pick<PlaygroundState, 'title' | 'channel' | 'user' | 'bot' | 'banner' | 'notes' | 'lagbot' | 'now' | 'modal'> {
  messages(channel: string): StoredMessage[];
  thread(channel: string, ts: string): StoredMessage[];
  ephemerals(filter: { user: string; channel: string }): EphemeralMessage[];
  userName(id: string): string | undefined;
  home(user: string): HomeViewRecord | undefined;
}

const MENTION = /<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g;

function mentionedUsers(messages: readonly unknown[]): Set<string> {
  const ids = new Set<string>();
  for (const m of JSON.stringify(messages).matchAll(MENTION)) ids.add(m[1] as string);
  return ids;
}

export function buildSnapshot(src: SnapshotSource): PlaygroundState {
  const channel = src.channel.id;
  const messages: ChannelMessage[] = src.messages(channel).map((m) => ({
    ...m,
    // A broadcast reply shows in the channel, but its thread belongs to the root.
    replies: (m.reply_count ?? 0) > 0 && m.subtype !== 'thread_broadcast' ? src.thread(channel, m.ts).slice(1) : [],
  }));
  const ephemerals = src.ephemerals({ user: src.user.id, channel });

  const users: Record<string, string> = { [src.user.id]: src.user.name, [src.bot.userId]: src.bot.name };
  const everyone = [...messages, ...messages.flatMap((m) => m.replies), ...ephemerals];
  const home = src.home(src.user.id);
  const ids = mentionedUsers([...everyone, ...(home ? [home.view.blocks] : [])]);
  for (const m of everyone) ids.add(m.user);
  for (const id of ids) {
    const name = users[id] ?? src.userName(id);
    if (name !== undefined) users[id] = name;
  }

  return {
    title: src.title,
    channel: { ...src.channel },
    user: { ...src.user },
    bot: { ...src.bot },
    banner: src.banner,
    notes: src.notes,
    messages,
    ephemerals,
    users,
    lagbot: src.lagbot,
    home: home ? { blocks: home.view.blocks, publishedAt: home.publishedAt } : null,
    modal: src.modal,
    now: src.now,
  };
}
