import { isPlainObject } from './http.js';
import type { Block } from './types.js';

export const MAX_BLOCKS = 50;
/** A Home tab or modal holds twice a message's blocks. */
export const MAX_VIEW_BLOCKS = 100;
export const MAX_TEXT_LENGTH = 40_000;

/** Fields that @slack/web-api sends as JSON strings inside a form body. */
const JSON_FIELDS = ['blocks', 'attachments', 'metadata', 'view', 'files'] as const;

/** Decodes JSON-valued form fields; a field that is not valid JSON stays a string for validation to reject. */
export function decodeJsonFields(args: Record<string, unknown>): Record<string, unknown> {
  const out = { ...args };
  for (const field of JSON_FIELDS) {
    const value = out[field];
    if (typeof value !== 'string' || value === '') continue;
    try {
      out[field] = JSON.parse(value) as unknown;
    } catch {
      // left as the raw string on purpose
    }
  }
  return out;
}

export interface Content {
  text?: string;
  blocks?: Block[];
  attachments?: unknown[];
}

export type ContentResult = { ok: true; content: Content } | { ok: false; error: string };

const absent = (v: unknown): boolean => v === undefined || v === null || v === '';

/** Checks message content against Slack's limits, answering with the error Slack would give. */
export function readContent(args: Record<string, unknown>): ContentResult {
  const content: Content = {};

  if (!absent(args.blocks)) {
    const blocks = args.blocks;
    if (!Array.isArray(blocks) || blocks.length > MAX_BLOCKS) return { ok: false, error: 'invalid_blocks' };
    if (!blocks.every((b) => isPlainObject(b) && typeof b.type === 'string')) return { ok: false, error: 'invalid_blocks' };
    content.blocks = blocks as Block[];
  }

  if (!absent(args.attachments)) {
    if (!Array.isArray(args.attachments)) return { ok: false, error: 'invalid_attachments' };
    content.attachments = args.attachments as unknown[];
  }

  if (!absent(args.text)) {
    const text = args.text;
    if (typeof text !== 'string' && typeof text !== 'number' && typeof text !== 'boolean') {
      return { ok: false, error: 'invalid_arguments' };
    }
    content.text = String(text);
    if (content.text.length > MAX_TEXT_LENGTH) return { ok: false, error: 'msg_too_long' };
  }

  const hasSomething = content.text !== undefined || (content.blocks?.length ?? 0) > 0 || (content.attachments?.length ?? 0) > 0;
  if (!hasSomething) return { ok: false, error: 'no_text' };
  return { ok: true, content };
}

/** Slack takes `true`, `"true"` and `"1"` for boolean arguments. */
export function truthy(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}

/** A string argument; numbers are accepted because JSON callers send ts values either way. */
export function stringArg(args: Record<string, unknown>, name: string): string | undefined {
  const value = args[name];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}
