// Shapes shared by the stand-in's modules. Everything the store holds is plain JSON data so a
// browser page can receive it over the wire unchanged.

export type Block = Record<string, unknown>;

/** Which door a message came in through: the Web API or a post to a response_url. */
export type MessageSource = 'web_api' | 'response_url';

export interface StoredMessage {
  type: 'message';
  /** Set on thread replies that were also sent to the channel (`reply_broadcast`). */
  subtype?: 'thread_broadcast';
  channel: string;
  ts: string;
  text: string;
  blocks?: Block[];
  attachments?: unknown[];
  metadata?: unknown;
  /** On a reply: the parent's ts. On a parent with replies: its own ts, as Slack does. */
  thread_ts?: string;
  reply_count?: number;
  latest_reply?: string;
  user: string;
  bot_id?: string;
  app_id?: string;
  team?: string;
  edited?: { user: string; ts: string };
  /** Files shared with the message (files.completeUploadExternal), as Slack lists them on a message. */
  files?: SlackFileObject[];
  /** Set on messages that share a file, as Slack does. */
  upload?: boolean;
  source: MessageSource;
}

/** A file object as the Web API returns it (the fields lagbot and the playground read). */
export interface SlackFileObject {
  id: string;
  created: number;
  timestamp: number;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  pretty_type: string;
  user: string;
  size: number;
  mode: 'hosted';
  is_external: false;
  is_public: boolean;
  url_private: string;
  url_private_download: string;
  permalink: string;
  original_w?: number;
  original_h?: number;
  alt_txt?: string;
}

export interface EphemeralMessage {
  type: 'message';
  channel: string;
  ts: string;
  /** The only user who can see it. */
  user: string;
  text: string;
  blocks?: Block[];
  attachments?: unknown[];
  thread_ts?: string;
  bot_id?: string;
  edited?: { user: string; ts: string };
  source: MessageSource;
}

export interface ApiCall {
  method: string;
  /** Request arguments without the token; JSON-valued form fields (blocks, ...) are decoded. */
  args: Record<string, unknown>;
  at: number;
  /** HTTP status the stand-in answered with. */
  status: number;
  /** The JSON (or text, for an injected 500) the stand-in answered with. */
  response: unknown;
}

export interface ResponseBody {
  text?: string;
  blocks?: Block[];
  response_type?: 'ephemeral' | 'in_channel';
  replace_original?: boolean;
  delete_original?: boolean;
  thread_ts?: string;
  [key: string]: unknown;
}

export interface ResponseRecord {
  /** The id in `/response/<id>`. */
  id: string;
  body: ResponseBody;
  at: number;
  status: number;
  /** Set when the post was refused (`used_url`, `expired_url`, `no_text`, ...). */
  error?: string;
}

export type Fault = { status: 429; retryAfter: number } | { status: 500 } | { error: string };

/**
 * What the stand-in does with one Web API call, for fault drills: the outcomes a real Slack
 * can give a client, including the ones where the work is done but the answer is lost.
 */
export type ChaosAction =
  | { kind: 'ok' }
  /** 429 with Retry-After (seconds); nothing is done. */
  | { kind: 'rate-limit'; retryAfter: number }
  /** 500; nothing is done. */
  | { kind: 'error-before' }
  /** The call takes effect, then the answer is a 500. */
  | { kind: 'error-after' }
  /** The call takes effect at once; the answer comes `ms` later. */
  | { kind: 'hold'; ms: number }
  /** The call takes effect only after `ms`, then is answered; it takes effect even if the client has gone. */
  | { kind: 'late'; ms: number }
  /** The connection is dropped without an answer, before or after the call takes effect. */
  | { kind: 'reset-before' }
  | { kind: 'reset-after' };

export type Chaos = (call: { method: string; args: Record<string, unknown> }) => ChaosAction | undefined;

export interface Team {
  id: string;
  domain: string;
}

export interface ChannelInfo {
  id: string;
  name: string;
}

export interface UserInfo {
  id: string;
  name: string;
}

/** A user's Home tab as lagbot last published it (views.publish). */
export interface HomeViewRecord {
  user: string;
  /** Slack's view id, new on each publish. */
  id: string;
  view: { type: 'home'; blocks: Block[]; [key: string]: unknown };
  publishedAt: number;
}

/** Live changes, for tests and for a page that mirrors the workspace. */
export interface StandinEvents {
  message: [StoredMessage];
  ephemeral: [EphemeralMessage];
  update: [StoredMessage | EphemeralMessage];
  delete: [{ channel: string; ts: string; ephemeral: boolean }];
  call: [ApiCall];
  response: [ResponseRecord];
  home: [HomeViewRecord];
  /** A modal opened, changed (errors shown) or closed. */
  modal: [{ id: string; user: string; open: boolean }];
}
