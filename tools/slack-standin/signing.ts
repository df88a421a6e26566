import { createHmac } from 'node:crypto';

/**
 * Bolt only parses the body as a form when the header is exactly this string; a `; charset=...`
 * suffix makes it fall back to JSON.parse and answer 400.
 */
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** Slack's v0 request signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>`. */
export function signSlackRequest(signingSecret: string, timestamp: number, rawBody: string): string {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
  return `v0=${digest}`;
}

export interface SignedHeaders {
  'Content-Type': string;
  'X-Slack-Request-Timestamp': string;
  'X-Slack-Signature': string;
}

/**
 * Headers Slack sends with a slash command or interaction post. `timestamp` is in seconds and
 * defaults to now, because Bolt rejects anything older than five minutes.
 */
export function signedHeaders(
  signingSecret: string,
  rawBody: string,
  timestamp: number = Math.floor(Date.now() / 1000),
  contentType: string = FORM_CONTENT_TYPE,
): SignedHeaders {
  return {
    'Content-Type': contentType,
    'X-Slack-Request-Timestamp': String(timestamp),
    'X-Slack-Signature': signSlackRequest(signingSecret, timestamp, rawBody),
  };
}
