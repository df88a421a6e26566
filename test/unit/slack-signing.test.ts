import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FORM_CONTENT_TYPE, signSlackRequest, signedHeaders } from '../../tools/slack-standin/signing.js';

// The worked example from Slack's "Verifying requests from Slack" page.
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = 1531420618;
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
  '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
  '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
  '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const EXPECTED = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

describe('signSlackRequest', () => {
  it("reproduces Slack's published test vector", () => {
    expect(signSlackRequest(SECRET, TIMESTAMP, BODY)).toBe(EXPECTED);
  });

  it('changes when one byte of the body changes', () => {
    const tampered = BODY.replace('text=', 'text=x');
    expect(tampered).not.toBe(BODY);
    expect(signSlackRequest(SECRET, TIMESTAMP, tampered)).not.toBe(EXPECTED);
    expect(signSlackRequest(SECRET, TIMESTAMP, `${BODY.slice(0, -1)}d`)).not.toBe(EXPECTED);
  });

  it('changes with the timestamp and the secret', () => {
    expect(signSlackRequest(SECRET, TIMESTAMP + 1, BODY)).not.toBe(EXPECTED);
    expect(signSlackRequest(`${SECRET}x`, TIMESTAMP, BODY)).not.toBe(EXPECTED);
  });

  it('agrees with an independent HMAC over the v0 base string', () => {
    const body = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
    const hex = createHmac('sha256', 's3cret').update(`v0:1700000000:${body}`).digest('hex');
    expect(signSlackRequest('s3cret', 1700000000, body)).toBe(`v0=${hex}`);
  });
});

describe('signedHeaders', () => {
  it('carries the exact form content type, the timestamp and the signature', () => {
    expect(signedHeaders(SECRET, BODY, TIMESTAMP)).toEqual({
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Slack-Request-Timestamp': '1531420618',
      'X-Slack-Signature': EXPECTED,
    });
    expect(FORM_CONTENT_TYPE).toBe('application/x-www-form-urlencoded');
  });

  it('defaults to the current time in seconds', () => {
    const before = Math.floor(Date.now() / 1000);
    const ts = Number(signedHeaders(SECRET, BODY)['X-Slack-Request-Timestamp']);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });
});
