import type { IncomingMessage, ServerResponse } from 'node:http';

export const MAX_BODY_BYTES = 5 * 1024 * 1024;

export class BodyTooLargeError extends Error {}

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new BodyTooLargeError(`body exceeds ${limit} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The body, or null after answering 413 the way Slack does (`request_too_large`): the
 * Web API and response_url endpoints refuse an oversized body alike.
 */
export async function readBodyOrRefuse(req: IncomingMessage, res: ServerResponse): Promise<string | null> {
  try {
    return await readBody(req);
  } catch (err) {
    if (!(err instanceof BodyTooLargeError)) throw err;
    sendJson(res, 413, { ok: false, error: 'request_too_large' });
    return null;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` → `application/json`. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type ParsedBody = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

/**
 * Decodes a request body the way Slack's API edge does: form fields or a JSON object. Form
 * values stay strings; JSON-valued fields are decoded later by whoever knows which they are.
 */
export function parseRequestBody(type: string, raw: string): ParsedBody {
  if (raw.length === 0) return { ok: true, value: {} };
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return { ok: false, error: 'invalid_json' };
    }
    return isPlainObject(parsed) ? { ok: true, value: parsed } : { ok: false, error: 'json_not_object' };
  }
  if (type === 'application/x-www-form-urlencoded' || type === '') {
    return { ok: true, value: Object.fromEntries(new URLSearchParams(raw)) };
  }
  // multipart (file uploads) is outside what lagbot sends, so the double refuses it loudly.
  return { ok: false, error: 'invalid_form_data' };
}
