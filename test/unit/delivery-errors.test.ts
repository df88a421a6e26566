import { webApi } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { classifySlackError } from '../../src/slack/delivery-errors.js';

const platform = (error: string) => Object.assign(new Error(`An API error occurred: ${error}`), { code: webApi.ErrorCode.PlatformError, data: { ok: false, error } });

describe('classifySlackError', () => {
  it('waits for an operator on auth and membership errors instead of dropping the timeline', () => {
    for (const error of ['invalid_auth', 'token_revoked', 'missing_scope', 'not_in_channel']) {
      expect(classifySlackError(platform(error))).toMatchObject({ kind: 'transient', outcomeUnknown: false });
    }
  });

  it('gives up on requests Slack will never take', () => {
    for (const error of ['channel_not_found', 'invalid_blocks', 'msg_too_long']) {
      expect(classifySlackError(platform(error))).toEqual({ kind: 'permanent', message: error, answered: true });
    }
  });

  it('tells an answered failure (the call is settled) from one without an answer (it may still land)', () => {
    const http500 = Object.assign(new Error('HTTP 500'), { code: webApi.ErrorCode.HTTPError, statusCode: 500 });
    expect(classifySlackError(http500)).toMatchObject({ kind: 'transient', outcomeUnknown: true, answered: true });
    const reset = Object.assign(new Error('socket hang up'), { code: webApi.ErrorCode.RequestError });
    expect(classifySlackError(reset)).toMatchObject({ kind: 'transient', outcomeUnknown: true, answered: false });
    expect(classifySlackError(new Error('timeout of 10000ms exceeded'))).toMatchObject({ outcomeUnknown: true, answered: false });
  });

  it('honours Retry-After on a rate limit', () => {
    const limited = Object.assign(new Error('rate limited'), { code: webApi.ErrorCode.RateLimitedError, retryAfter: 7 });
    expect(classifySlackError(limited)).toMatchObject({ kind: 'rate-limited', retryAfterMs: 7_000 });
  });
});
