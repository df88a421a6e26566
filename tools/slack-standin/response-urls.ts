import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readContent, truthy } from './content.js';
import { isPlainObject, mediaType, readBodyOrRefuse, sendJson } from './http.js';
import type { MessageStore } from './store.js';
import type { ResponseBody, ResponseRecord, Team } from './types.js';
import type { BotIdentity } from './web-api.js';

export const RESPONSE_URL_MAX_USES = 5;
export const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;

/** A message a response_url can replace or delete. */
export interface ResponseTarget {
  channel: string;
  ts: string;
  ephemeral: boolean;
}

interface Entry {
  id: string;
  createdAt: number;
  uses: number;
  channel: string;
  userId: string;
  /** The message whose button was clicked; commands have none. */
  origin?: ResponseTarget;
  /** What this URL last posted, so a command's follow-up can replace its own earlier answer. */
  lastPosted?: ResponseTarget;
}

export interface ResponseUrlDeps {
  store: MessageStore;
  bot: BotIdentity;
  team: Team;
  clock: () => number;
  onResponse: (record: ResponseRecord) => void;
}

type Outcome = { status: number; error?: string };

/** The `/response/<id>` endpoints handed out with each command and interaction. */
export class ResponseUrls {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly deps: ResponseUrlDeps) {}

  create(info: { channel: string; userId: string; origin?: ResponseTarget }): string {
    const id = randomBytes(12).toString('hex');
    this.entries.set(id, { id, createdAt: this.deps.clock(), uses: 0, ...info });
    return id;
  }

  async handle(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const at = this.deps.clock();
    const raw = await readBodyOrRefuse(req, res);
    if (raw === null) return;
    const body = parseResponseBody(mediaType(req), raw);
    const outcome = body ? this.apply(id, body, at) : { status: 400, error: 'invalid_payload' };
    const record: ResponseRecord = { id, body: body ?? { raw }, at, status: outcome.status };
    if (outcome.error !== undefined) record.error = outcome.error;
    this.deps.onResponse(record);
    sendJson(res, outcome.status, outcome.error === undefined ? { ok: true } : { ok: false, error: outcome.error });
  }

  private apply(id: string, body: ResponseBody, now: number): Outcome {
    const entry = this.entries.get(id);
    if (!entry) return { status: 404, error: 'invalid_url' };
    if (now - entry.createdAt > RESPONSE_URL_TTL_MS) return { status: 404, error: 'expired_url' };
    if (entry.uses >= RESPONSE_URL_MAX_USES) return { status: 404, error: 'used_url' };
    entry.uses += 1;

    const { store, bot } = this.deps;
    const target = entry.origin ?? entry.lastPosted;

    if (truthy(body.delete_original)) {
      if (!target) return { status: 404, error: 'message_not_found' };
      const removed = target.ephemeral ? store.removeEphemeral(target.channel, target.ts) : store.remove(target.channel, target.ts);
      return removed ? { status: 200 } : { status: 404, error: 'message_not_found' };
    }

    const content = readContent(body);
    if (!content.ok) return { status: 400, error: content.error };
    const { text, blocks, attachments } = content.content;
    const patch = { text: text ?? '', ...(blocks ? { blocks } : {}), ...(attachments ? { attachments } : {}) };

    // Slack posts a new message unless asked to replace; a replacement keeps the original's visibility.
    if (truthy(body.replace_original) && target) {
      const updated = target.ephemeral
        ? store.updateEphemeral(target.channel, target.ts, patch, bot.userId)
        : store.update(target.channel, target.ts, patch, bot.userId);
      return updated ? { status: 200 } : { status: 404, error: 'message_not_found' };
    }

    const threadTs = typeof body.thread_ts === 'string' ? store.threadRoot(entry.channel, body.thread_ts) : undefined;
    if (body.response_type === 'in_channel') {
      const posted = store.post({
        channel: entry.channel,
        ...patch,
        ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
        user: bot.userId,
        bot_id: bot.botId,
        app_id: bot.appId,
        team: this.deps.team.id,
        source: 'response_url',
      });
      entry.lastPosted = { channel: posted.channel, ts: posted.ts, ephemeral: false };
    } else {
      const posted = store.postEphemeral({
        channel: entry.channel,
        user: entry.userId,
        ...patch,
        ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
        bot_id: bot.botId,
        source: 'response_url',
      });
      entry.lastPosted = { channel: posted.channel, ts: posted.ts, ephemeral: true };
    }
    return { status: 200 };
  }
}

/** Bolt posts JSON; Slack also takes a form with a `payload` field holding the JSON. */
function parseResponseBody(type: string, raw: string): ResponseBody | undefined {
  let text = raw;
  if (type === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(raw).get('payload');
    if (payload === null) return undefined;
    text = payload;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isPlainObject(parsed) ? (parsed as ResponseBody) : undefined;
  } catch {
    return undefined;
  }
}
