import { webApi } from '@slack/bolt';

/**
 * What a failed Slack call means for the outbox row that made it. The WebClient is built with
 * retries off and rate-limited calls rejected, so every failure arrives here untouched.
 */
export type SlackFailure =
  /** 429: Slack named the moment to try again. */
  | { kind: 'rate-limited'; retryAfterMs: number; message: string; answered: true }
  /**
   * Worth retrying. `outcomeUnknown`: the request may have been carried out (a timeout or a 5xx
   * can come after Slack posted), so a post must be looked up before it is sent again.
   */
  | {
      kind: 'transient';
      outcomeUnknown: boolean;
      message: string;
      /**
       * Slack answered (a status came back): the request is settled, whatever it did. False
       * for a timeout or a dropped connection, after which Slack may still carry it out.
       */
      answered: boolean;
    }
  /** Slack refused this request for good: sending it again gives the same answer. */
  | { kind: 'permanent'; message: string; answered: true };

/**
 * Slack errors that say "not now" rather than "not this". Every other platform error
 * (`channel_not_found`, `invalid_blocks`, `msg_too_long`, ...)
 * is a verdict on the request, and retrying it would hold the rows behind it hostage.
 */
const TRANSIENT_PLATFORM_ERRORS = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
  'team_added_to_org',
]);

/**
 * Errors an operator fixes without lagbot's help: a revoked or rotated token, a missing
 * scope, the bot not invited to the channel. Failing the rows would lose the timeline;
 * waiting (with backoff, logged loudly) delivers it once the fix is in.
 */
const OPERATOR_FIXABLE_ERRORS = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive', 'missing_scope', 'not_in_channel']);

interface Coded {
  code: string;
}

const hasCode = (err: unknown): err is Coded => typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string';

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function classifySlackError(err: unknown): SlackFailure {
  // Matched on the documented error codes rather than instanceof, so a second copy of
  // @slack/web-api in the tree cannot turn a rate limit into an unknown error.
  if (!hasCode(err)) return { kind: 'transient', outcomeUnknown: true, message: describe(err), answered: false };
  switch (err.code) {
    case webApi.ErrorCode.RateLimitedError: {
      const seconds = Number((err as Coded & { retryAfter?: unknown }).retryAfter);
      return { kind: 'rate-limited', retryAfterMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000, message: 'ratelimited', answered: true };
    }
    case webApi.ErrorCode.PlatformError: {
      const data = (err as Coded & { data?: { error?: unknown } }).data;
      const error = typeof data?.error === 'string' ? data.error : describe(err);
      if (TRANSIENT_PLATFORM_ERRORS.has(error)) return { kind: 'transient', outcomeUnknown: false, message: error, answered: true };
      if (OPERATOR_FIXABLE_ERRORS.has(error)) return { kind: 'transient', outcomeUnknown: false, message: `${error} (waiting for an operator to fix it)`, answered: true };
      return { kind: 'permanent', message: error, answered: true };
    }
    case webApi.ErrorCode.HTTPError: {
      const status = Number((err as Coded & { statusCode?: unknown }).statusCode);
      // A gateway error or timeout may come after the work was done; other statuses did nothing.
      return { kind: 'transient', outcomeUnknown: status >= 500 || status === 408, message: `HTTP ${status}`, answered: true };
    }
    case webApi.ErrorCode.RequestError:
      return { kind: 'transient', outcomeUnknown: true, message: describe(err), answered: false };
    default:
      return { kind: 'transient', outcomeUnknown: true, message: describe(err), answered: false };
  }
}
