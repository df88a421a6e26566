import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError, isPlainObject, mediaType, readBody } from '../http.js';

/** The page sends a command line or a click; nothing it sends comes near this. */
export const MAX_PLAYGROUND_BODY_BYTES = 16 * 1024;
/** Slack's own cap on slash-command text. */
export const MAX_COMMAND_TEXT = 4000;

export type Checked<T> = { ok: true; value: T } | { ok: false; status: number; error: string };

const bad = (error: string, status = 400): { ok: false; status: number; error: string } => ({ ok: false, status, error });

/**
 * A JSON object body. Requiring the JSON media type also keeps other web pages out: a
 * cross-site form or no-cors fetch cannot send it without a preflight this server refuses.
 */
export async function readJsonObject(req: IncomingMessage): Promise<Checked<Record<string, unknown>>> {
  if (mediaType(req) !== 'application/json') {
    req.resume();
    return bad('send a JSON object with Content-Type: application/json');
  }
  let raw: string;
  try {
    raw = await readBody(req, MAX_PLAYGROUND_BODY_BYTES);
  } catch (err) {
    if (!(err instanceof BodyTooLargeError)) throw err;
    req.resume();
    return bad(`request body is larger than ${MAX_PLAYGROUND_BODY_BYTES} bytes`, 413);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return bad('request body is not valid JSON');
  }
  return isPlainObject(parsed) ? { ok: true, value: parsed } : bad('request body must be a JSON object');
}

export interface CommandBody {
  /** What follows `/lag`, as typed. */
  text: string;
}

export function checkCommand(body: Record<string, unknown>): Checked<CommandBody> {
  if (typeof body.text !== 'string') return bad('"text" must be a string (what follows /lag)');
  if (body.text.length > MAX_COMMAND_TEXT) return bad(`"text" is longer than ${MAX_COMMAND_TEXT} characters`);
  return { ok: true, value: { text: body.text } };
}

export interface ClickBody {
  channel: string;
  ts: string;
  actionId: string;
  value?: string;
  ephemeral?: boolean;
}

export interface ModalBody {
  viewId: string;
  /** The users picked in the modal's user picker. */
  users: string[];
}

const VIEW_ID = /^V[0-9A-Z]{2,20}$/;
const USER = /^[UW][A-Z0-9]{2,}$/;

/** A modal submission (`users` given) or dismissal (without it) from the page. */
export function checkModal(body: Record<string, unknown>, submitting: boolean): Checked<ModalBody> {
  const { viewId, users } = body;
  if (typeof viewId !== 'string' || !VIEW_ID.test(viewId)) return bad('"viewId" must be a view id such as "V0123ABCD"');
  if (!submitting) return { ok: true, value: { viewId, users: [] } };
  if (!Array.isArray(users) || users.length > 100 || !users.every((u): u is string => typeof u === 'string' && USER.test(u))) return bad('"users" must be a list of user ids');
  return { ok: true, value: { viewId, users } };
}

const TS = /^\d{1,12}\.\d{1,6}$/;

export function checkClick(body: Record<string, unknown>): Checked<ClickBody> {
  const { channel, ts, actionId, value, ephemeral } = body;
  if (typeof channel !== 'string' || channel === '' || channel.length > 64) return bad('"channel" must be a channel id');
  if (typeof ts !== 'string' || !TS.test(ts)) return bad('"ts" must be a message ts such as "1700000000.000100"');
  if (typeof actionId !== 'string' || actionId === '' || actionId.length > 255) return bad('"actionId" must be a non-empty string');
  if (value !== undefined && (typeof value !== 'string' || value.length > 2000)) return bad('"value" must be a string of at most 2000 characters');
  if (ephemeral !== undefined && typeof ephemeral !== 'boolean') return bad('"ephemeral" must be true or false');
  const click: ClickBody = { channel, ts, actionId };
  if (value !== undefined) click.value = value;
  if (ephemeral !== undefined) click.ephemeral = ephemeral;
  return { ok: true, value: click };
}
