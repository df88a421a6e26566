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
      expect(classifySlackError(platform(error))).toEqual({ kind: 'permanent', message: error });
    }
  });

  it('honours Retry-After on a rate limit', () => {
    const limited = Object.assign(new Error('rate limited'), { code: webApi.ErrorCode.RateLimitedError, retryAfter: 7 });
    expect(classifySlackError(limited)).toMatchObject({ kind: 'rate-limited', retryAfterMs: 7_000 });
  });
});
