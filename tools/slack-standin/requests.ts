import { randomBytes, randomInt } from 'node:crypto';
import { isPlainObject } from './http.js';
import { FORM_CONTENT_TYPE, signedHeaders } from './signing.js';
import type { Block } from './types.js';

/** Knobs for forging requests: a wrong signature, a stale timestamp, a content type Bolt will not parse. */
export interface SignOverrides {
  signature?: string;
  /** Seconds since the epoch. */
  timestamp?: number;
  contentType?: string;
  /** Changes the body after it was signed, as a forger would: the signature then covers another body. */
  tamper?: (rawBody: string) => string;
}

export interface DeliveryResult {
  status: number;
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
}

const DELIVERY_TIMEOUT_MS = 10_000;

/** POSTs a form body to the app exactly as Slack does: raw bytes signed with the signing secret. */
export function deliverSigned(url: string, signingSecret: string, form: URLSearchParams, overrides: SignOverrides = {}): Promise<DeliveryResult> {
  return deliverRaw(url, signingSecret, form.toString(), overrides.contentType ?? FORM_CONTENT_TYPE, overrides);
}

/** POSTs an Events API callback: Slack sends events as a signed JSON body, not a form. */
export function deliverSignedJson(url: string, signingSecret: string, body: Record<string, unknown>, overrides: SignOverrides = {}): Promise<DeliveryResult> {
  return deliverRaw(url, signingSecret, JSON.stringify(body), overrides.contentType ?? 'application/json', overrides);
}

async function deliverRaw(url: string, signingSecret: string, rawBody: string, contentType: string, overrides: SignOverrides): Promise<DeliveryResult> {
  const headers: Record<string, string> = { ...signedHeaders(signingSecret, rawBody, overrides.timestamp, contentType) };
  if (overrides.signature !== undefined) headers['X-Slack-Signature'] = overrides.signature;
  headers['User-Agent'] = 'Slackbot 1.0 (+https://api.slack.com/robots)';

  const sent = overrides.tamper ? overrides.tamper(rawBody) : rawBody;
  const response = await fetch(url, { method: 'POST', headers, body: sent, signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) });
  const body = await response.text();
  const result: DeliveryResult = { status: response.status, body };
  try {
    if (body.length > 0) result.json = JSON.parse(body) as unknown;
  } catch {
    // not JSON: plain-text acks are allowed
  }
  return result;
}

/** Same shape as Slack's event ids: `Ev` and 10 upper-case letters or digits. */
export function eventId(): string {
  return `Ev${randomBytes(8).toString('hex').toUpperCase().slice(0, 10)}`;
}

/** Same shape as Slack's: `<digits>.<digits>.<32 hex>`. */
export function triggerId(): string {
  return `${randomInt(1e11, 1e12)}.${randomInt(1e10, 1e11)}.${randomBytes(16).toString('hex')}`;
}

/** `action_ts` values look like message ts values, with microseconds. */
export function actionTs(nowMs: number = Date.now()): string {
  return (nowMs / 1000).toFixed(6);
}

export interface FoundButton {
  blockId: string;
  element: Record<string, unknown>;
}

/** Where a user could click a button with this action_id: an actions block or a section's accessory. */
export function findButton(blocks: readonly Block[] | undefined, actionId: string): FoundButton | undefined {
  for (const block of blocks ?? []) {
    const blockId = typeof block.block_id === 'string' ? block.block_id : '';
    const candidates: unknown[] = [];
    if (Array.isArray(block.elements)) candidates.push(...(block.elements as unknown[]));
    if (block.accessory !== undefined) candidates.push(block.accessory);
    for (const element of candidates) {
      if (isPlainObject(element) && element.type === 'button' && element.action_id === actionId) {
        return { blockId, element };
      }
    }
  }
  return undefined;
}
