import Bottleneck from 'bottleneck';
import { webApi } from '@slack/bolt';
import { systemClock } from '../core/ports.js';
import type { Clock } from '../core/ports.js';
import type { Logger } from '../log/logger.js';
import type { OutboxRow, OutboxStore } from '../store/outbox.js';
import { classifySlackError, type SlackFailure } from './delivery-errors.js';
import { findOutboxMessage, outboxMetadata } from './delivery-lookup.js';
import { FileRenderError, FileUploadError, findSharedFile, renderFile, uploadFile } from './file-upload.js';

export interface SlackDeliveryOptions {
  store: OutboxStore;
  /**
   * Must be built with `retryConfig: { retries: 0 }` and `rejectRateLimitedCalls: true` (see
   * `createDeliveryClient`). This layer is the only one that retries: a WebClient retrying
   * underneath would resend posts whose outcome is unknown without looking them up first, and
   * would sit out a 429 while holding rows of other channels.
   */
  client: webApi.WebClient;
  logger: Logger;
  clock?: Clock;
  /** Safety net behind `kick()`, which does the prompt work. Default 5 s. */
  pollIntervalMs?: number;
  /** Least time between two posts to one channel; Slack allows about one per second. Default 1000. */
  postMinTimeMs?: number;
  /** `chat.update` budget shared by all channels (Slack Tier 3, about 50 a minute). */
  updatesPerWindow?: number;
  updateWindowMs?: number;
  /** Backoff after 5xx and network errors, doubling from `backoffInitialMs` up to `backoffMaxMs`. Default 1 s → 60 s. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** How far before a row was queued an in-doubt lookup reads, covering clock skew with Slack. Default 10 min. */
  lookupMarginMs?: number;
  /**
   * The client's timeout for one call (see createDeliveryClient). A call that got no answer
   * may still take effect until then, so its row is looked up only after it. Default 10 s.
   */
  callTimeoutMs?: number;
}

export interface DeliveryStatus {
  /** Rows waiting to be sent. */
  pending: number;
  /** Rows that may or may not be in Slack, to be looked up before they are sent again. */
  inDoubt: number;
  /** Rows Slack refused for good (see the store's `last_error`). */
  failed: number;
  lastError: string | null;
  lastDeliveredAt: number | null;
}

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/** The WebClient delivery expects: no retries of its own, rate limits handed back as errors. */
export function createDeliveryClient(token: string, options: { slackApiUrl?: string; timeoutMs?: number } = {}): webApi.WebClient {
  return new webApi.WebClient(token, {
    ...(options.slackApiUrl !== undefined ? { slackApiUrl: options.slackApiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    // stop() waits for the call in flight, so a call must not be able to hang forever.
    timeout: options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
    // Failures are reported by delivery, with the row they belong to.
    logLevel: webApi.LogLevel.ERROR,
  });
}

/** Rows of one stream are delivered strictly one after another, in seq order. */
/** As the store orders rows (see OutboxStore.outboxHeads): root edits and files are streams of their own. */
const streamKey = (row: OutboxRow): string => {
  if (row.incidentId === null) return `channel:${row.channel}`;
  if (row.kind === 'update-root') return `root:${row.incidentId}`;
  return row.kind === 'post-file' ? `file:${row.incidentId}` : `incident:${row.incidentId}`;
};

/** Root edits and files come up in streams of their own, so they may come up before their root is posted. */
const waitsForRoot = (row: OutboxRow): boolean => row.kind === 'update-root' || row.kind === 'post-file';

const HEADS_PER_ROUND = 500;
/** How soon a root edit that came up before its post-root landed looks again. */
const ROOT_WAIT_MS = 250;

type Lifecycle = 'new' | 'running' | 'stopped';

/**
 * Takes Slack effects from the outbox to Slack: in order per incident, paced per channel,
 * retried until Slack takes them, and never posted twice, even across a crash mid-call.
 */
export class SlackDelivery {
  private readonly store: OutboxStore;
  private readonly client: webApi.WebClient;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly settings: Required<Omit<SlackDeliveryOptions, 'store' | 'client' | 'logger' | 'clock'>>;
  private readonly postLimiters: Bottleneck.Group;
  /** Uploads are paced per channel too, but apart from the posts: a slow upload holds up no text. */
  private readonly fileLimiters: Bottleneck.Group;
  private readonly updateLimiter: Bottleneck;

  private lifecycle: Lifecycle = 'new';
  /** The one job (queued in a limiter or running) of each stream that has one. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly calling = new Set<number>();
  /** Channels Slack asked to wait (429 Retry-After), until when. */
  private readonly pausedUntil = new Map<string, number>();
  /**
   * Transient failures in a row across every call, reset by any call Slack carries out: the
   * backoff follows Slack's health, not one row's luck, so a Slack that answers every other
   * request delays each reply by about a second, not by a backoff each row builds up alone.
   */
  private consecutiveFailures = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private wake: { at: number; timer: NodeJS.Timeout } | undefined;
  private pumpQueued = false;
  private pumping = false;
  private pumpAgain = false;
  private lastError: string | null = null;
  private stopped: Promise<void> | undefined;

  constructor(options: SlackDeliveryOptions) {
    this.store = options.store;
    this.client = options.client;
    this.log = options.logger.child({ component: 'slack-delivery' });
    this.clock = options.clock ?? systemClock;
    this.settings = {
      pollIntervalMs: options.pollIntervalMs ?? 5_000,
      postMinTimeMs: options.postMinTimeMs ?? 1_000,
      updatesPerWindow: options.updatesPerWindow ?? 50,
      updateWindowMs: options.updateWindowMs ?? 60_000,
      backoffInitialMs: options.backoffInitialMs ?? 1_000,
      backoffMaxMs: options.backoffMaxMs ?? 60_000,
      lookupMarginMs: options.lookupMarginMs ?? 10 * 60_000,
      callTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
    };
    const { postMinTimeMs, updatesPerWindow, updateWindowMs } = this.settings;
    this.postLimiters = new Bottleneck.Group({ maxConcurrent: 1, minTime: postMinTimeMs });
    this.fileLimiters = new Bottleneck.Group({ maxConcurrent: 1, minTime: postMinTimeMs });
    this.updateLimiter = new Bottleneck({
      reservoir: updatesPerWindow,
      reservoirRefreshAmount: updatesPerWindow,
      reservoirRefreshInterval: updateWindowMs,
    });
  }

  start(): void {
    if (this.lifecycle === 'running') return;
    if (this.lifecycle === 'stopped') throw new Error('SlackDelivery was stopped; create a new one');
    this.lifecycle = 'running';
    this.store.inDoubt().then(
      (inDoubt) => {
        if (inDoubt.length > 0) this.log.warn({ seqs: inDoubt.map((r) => r.seq) }, 'outbox rows were mid-call when lagbot stopped: checking Slack before sending them again');
      },
      (err: unknown) => this.log.error({ err }, 'cannot read the outbox'),
    );
    this.pollTimer = setInterval(() => this.kick(), this.settings.pollIntervalMs);
    this.pollTimer.unref();
    this.kick();
  }

  /** Deliver what is due now; cheap to call after every commit (calls in one tick coalesce). */
  kick(): void {
    if (this.lifecycle !== 'running' || this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      void this.pumpOnce();
    });
  }

  /**
   * One pump at a time: the store answers asynchronously, and two pumps reading the same
   * heads could both find a stream idle and deliver its head twice. A kick during a pump
   * runs it again once it is done.
   */
  private async pumpOnce(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.pump();
      } while (this.pumpAgain && this.lifecycle === 'running');
    } finally {
      this.pumping = false;
    }
  }

  /** Stops taking new work, lets a call in flight finish (and be recorded), then resolves. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  async status(): Promise<DeliveryStatus> {
    const counts = await this.store.outboxCounts();
    return {
      pending: counts.pending,
      inDoubt: Math.max(0, counts.sending - this.calling.size),
      failed: counts.failed,
      lastError: this.lastError,
      lastDeliveredAt: counts.lastDeliveredAt,
    };
  }

  private async shutdown(): Promise<void> {
    this.lifecycle = 'stopped';
    clearInterval(this.pollTimer);
    clearTimeout(this.wake?.timer);
    this.wake = undefined;
    // Jobs still queued in a limiter are dropped (their rows stay in the outbox); running ones finish.
    const limiters = [this.updateLimiter, ...[this.postLimiters, this.fileLimiters].flatMap((g) => g.limiters().map((l) => l.limiter))];
    await Promise.allSettled(limiters.map((l) => l.stop({ dropWaitingJobs: true })));
    await Promise.allSettled([...this.inFlight.values()]);
    await this.postLimiters.disconnect(false);
    await this.fileLimiters.disconnect(false);
  }

  private async pump(): Promise<void> {
    if (this.lifecycle !== 'running') return;
    let heads: OutboxRow[];
    const now = this.clock.now();
    let wakeAt = Infinity;
    try {
      heads = await this.store.outboxHeads(HEADS_PER_ROUND);
      // Rows whose root is still on its way are left out before any is dispatched: one read each.
      heads = await this.withoutRootWaiters(heads);
    } catch (err) {
      this.log.error({ err }, 'cannot read the outbox');
      return;
    }
    if (this.lifecycle !== 'running') return;
    for (const row of heads) {
      const key = streamKey(row);
      if (this.inFlight.has(key)) continue;
      const readyAt = Math.max(row.nextAttemptAt, this.pausedUntil.get(row.channel) ?? 0);
      if (readyAt > now) {
        wakeAt = Math.min(wakeAt, readyAt);
        continue;
      }
      this.dispatch(key, row);
    }
    this.wakeAt(wakeAt);
  }

  /** A root edit or file before its root is posted would spend budget on nothing; the post-root's delivery kicks the pump. */
  private async withoutRootWaiters(heads: OutboxRow[]): Promise<OutboxRow[]> {
    const kept: OutboxRow[] = [];
    for (const row of heads) {
      if (!this.inFlight.has(streamKey(row)) && waitsForRoot(row) && row.incidentId !== null && (await this.store.rootMessage(row.incidentId)) === null && (await this.store.rootPending(row.incidentId))) continue;
      kept.push(row);
    }
    return kept;
  }

  /** A timer for the earliest row that is waiting out a backoff or a Retry-After. */
  private wakeAt(at: number): void {
    if (!Number.isFinite(at) || (this.wake !== undefined && this.wake.at <= at)) return;
    clearTimeout(this.wake?.timer);
    const timer = setTimeout(
      () => {
        this.wake = undefined;
        this.kick();
      },
      Math.max(0, at - this.clock.now()),
    );
    timer.unref();
    this.wake = { at, timer };
  }

  private dispatch(key: string, row: OutboxRow): void {
    const limiter = row.kind === 'update-root' ? this.updateLimiter : (row.kind === 'post-file' ? this.fileLimiters : this.postLimiters).key(row.channel);
    const job = limiter
      .schedule(() => this.attempt(row.seq))
      .catch((err: unknown) => {
        if (this.lifecycle === 'running') this.log.error({ err, seq: row.seq }, 'outbox job crashed');
      })
      .finally(() => {
        this.inFlight.delete(key);
        this.kick();
      });
    this.inFlight.set(key, job);
  }

  private async attempt(seq: number): Promise<void> {
    if (this.lifecycle !== 'running') return;
    // Re-read: between dispatch and now the row may have been superseded or finished.
    const row = await this.store.outboxRow(seq);
    if (!row || (row.state !== 'pending' && row.state !== 'sending')) return;
    if ((this.pausedUntil.get(row.channel) ?? 0) > this.clock.now()) return;
    this.calling.add(seq);
    const progress = { inDoubt: row.state === 'sending' && row.kind !== 'update-root' };
    try {
      await this.deliver(row, progress);
    } catch (err) {
      await this.onFailure(row, err, progress.inDoubt);
    } finally {
      this.calling.delete(seq);
    }
  }

  /** `progress.inDoubt` is cleared once Slack has been read and the row is known not to be there. */
  private async deliver(row: OutboxRow, progress: { inDoubt: boolean }): Promise<void> {
    const root = await this.rootFor(row);
    if (root === 'missing') return;
    if (root === 'waiting') {
      // Not a failure: the post-root's delivery kicks the pump when it lands.
      await this.store.markRetry(row.seq, { nextAttemptAt: this.clock.now() + ROOT_WAIT_MS, error: 'waiting for the root message', outcomeUnknown: false });
      return;
    }

    if (row.kind === 'post-file') {
      if (!root) throw new Error('post-file without a root message');
      await this.deliverFile(row, root, progress);
      return;
    }

    if (row.state === 'sending') {
      if (row.kind === 'update-root') {
        // An edit sets the same content however often it lands, so it is simply sent again,
        // unless a newer edit has been queued since (markRetry then supersedes this one).
        await this.store.markRetry(row.seq, { nextAttemptAt: this.clock.now(), error: 'in doubt: edit sent again', outcomeUnknown: false });
        if ((await this.store.outboxRow(row.seq))?.state !== 'pending') return;
      } else {
        // A call that got no answer may still land until the client's timeout has run out
        // (Slack finishing a post a moment after lagbot died): looking it up before then can
        // miss it, and sending it again would post it twice.
        if (await this.waitingToSettle(row)) return;
        const ts = await findOutboxMessage(this.client, {
          stamp: this.store.outboxStamp,
          seq: row.seq,
          incidentId: row.incidentId,
          channel: root?.channel ?? row.channel,
          threadTs: row.kind === 'post-thread' ? (root?.ts ?? null) : null,
          notBefore: row.createdAt - this.settings.lookupMarginMs,
        });
        this.consecutiveFailures = 0;
        if (ts !== null) {
          await this.store.markDelivered(row.seq, ts);
          this.log.info({ seq: row.seq, kind: row.kind, ts }, 'in-doubt outbox row was already in Slack: recorded, not sent again');
          return;
        }
        progress.inDoubt = false;
        if (this.lifecycle !== 'running') return;
        this.log.info({ seq: row.seq, kind: row.kind }, 'in-doubt outbox row is not in Slack: sending it');
      }
    }

    if (!(await this.store.markSending(row.seq))) return;
    const sent = await this.send(row, root);
    this.consecutiveFailures = 0;
    await this.store.markDelivered(row.seq, sent.ts, sent.channel);
  }

  /**
   * A call that got no answer may still land until the client's timeout has run out (Slack
   * finishing a post a moment after lagbot died): looking it up before then can miss it, and
   * sending it again would post it twice. True when the row was put back to wait for that.
   */
  private async waitingToSettle(row: OutboxRow): Promise<boolean> {
    const settled = row.lastAnswerAt !== null || row.lastAttemptAt === null ? 0 : row.lastAttemptAt + this.settings.callTimeoutMs;
    if (this.clock.now() >= settled) return false;
    await this.store.markRetry(row.seq, { nextAttemptAt: settled, error: 'in doubt: waiting until its last call can no longer land', outcomeUnknown: true });
    this.wakeAt(settled);
    return true;
  }

  /**
   * A file for the incident's thread: rendered, uploaded, then shared into the thread. Only the
   * share shows anything in Slack, and the file's id is recorded before it, so an in-doubt row
   * without an id was never shared (it is simply sent again) and one with an id is looked up
   * by it in the thread.
   */
  private async deliverFile(row: OutboxRow, root: { channel: string; ts: string }, progress: { inDoubt: boolean }): Promise<void> {
    if (!row.file) {
      const error = 'post-file row without a file';
      await this.store.markFailed(row.seq, error);
      this.reportFailed(row, error);
      return;
    }
    if (row.state === 'sending') {
      if (row.slackFileId !== null) {
        if (await this.waitingToSettle(row)) return;
        const ts = await findSharedFile(this.client, { channel: root.channel, threadTs: root.ts, fileId: row.slackFileId, notBefore: row.createdAt - this.settings.lookupMarginMs });
        this.consecutiveFailures = 0;
        if (ts !== null) {
          await this.store.markDelivered(row.seq, ts);
          this.log.info({ seq: row.seq, kind: row.kind, ts }, 'in-doubt file was already in its thread: recorded, not sent again');
          return;
        }
      }
      progress.inDoubt = false;
      if (this.lifecycle !== 'running') return;
    }
    // Rendered before the row is marked sending: a chart that cannot be drawn is no Slack call.
    const rendered = await renderFile(row.file);
    if (!(await this.store.markSending(row.seq))) return;
    const uploaded = await uploadFile(this.client, rendered, { channel: root.channel, threadTs: root.ts }, {
      timeoutMs: this.settings.callTimeoutMs,
      onUploaded: (fileId) => this.store.markFileUploaded(row.seq, fileId),
    });
    this.consecutiveFailures = 0;
    // Slack often reports a file's share after the completion: the file id stands in for the ts then.
    await this.store.markDelivered(row.seq, uploaded.ts ?? uploaded.fileId);
  }

  /**
   * Where thread replies and root edits go. 'waiting': a root edit whose post-root is still
   * on its way. 'missing' when the incident has no root message:
   * the row was failed here, as it can never be delivered.
   */
  private async rootFor(row: OutboxRow): Promise<{ channel: string; ts: string } | null | 'missing' | 'waiting'> {
    if (row.kind === 'post-root' || row.kind === 'post-channel' || row.incidentId === null) return null;
    const root = await this.store.rootMessage(row.incidentId);
    if (root) return root;
    // A root edit or a file is its own stream, so it can come up while the post-root is still on its way.
    if (waitsForRoot(row) && (await this.store.rootPending(row.incidentId))) return 'waiting';
    // Only reachable when the incident's post-root failed (or was never queued): the post-root
    // comes first in the incident's stream, so a live one would still be ahead of this row.
    const error = `incident ${row.incidentId} has no root message in Slack`;
    await this.store.markFailed(row.seq, error);
    this.reportFailed(row, error);
    return 'missing';
  }

  private async send(row: OutboxRow, root: { channel: string; ts: string } | null): Promise<{ ts: string; channel?: string }> {
    const { text, blocks } = row.message;
    if (row.kind === 'update-root') {
      if (!root) throw new Error('update-root without a root message');
      // No metadata: the root keeps the outbox stamp of its post-root, which lookups rely on.
      const answer = await this.client.chat.update({ channel: root.channel, ts: root.ts, text, blocks });
      return { ts: answer.ts ?? root.ts };
    }
    const answer = await this.client.chat.postMessage({
      channel: root?.channel ?? row.channel,
      text,
      blocks,
      ...(root ? { thread_ts: root.ts } : {}),
      metadata: outboxMetadata(this.store.outboxStamp, row.seq, row.incidentId),
      unfurl_links: false,
      unfurl_media: false,
    });
    // Unknown outcome in effect: the lookup on the next attempt will find the message by its seq.
    if (answer.ts === undefined) throw new Error('chat.postMessage answered ok without a ts');
    return { ts: answer.ts, ...(answer.channel !== undefined ? { channel: answer.channel } : {}) };
  }

  /** `lookingUp`: the call that failed was the lookup of an in-doubt row, not a send; the row stays in doubt. */
  private async onFailure(row: OutboxRow, err: unknown, lookingUp: boolean): Promise<void> {
    const failure = fileFailure(err) ?? classifySlackError(err);
    const now = this.clock.now();
    this.lastError = `${row.kind} #${row.seq} to ${row.channel}: ${failure.message}`;
    const context = { seq: row.seq, kind: row.kind, channel: row.channel, incidentId: row.incidentId, error: failure.message };

    if (failure.kind === 'permanent') {
      await this.store.markFailed(row.seq, failure.message);
      this.reportFailed(row, failure.message);
      return;
    }
    if (failure.kind === 'rate-limited') {
      const until = now + failure.retryAfterMs;
      this.pausedUntil.set(row.channel, Math.max(until, this.pausedUntil.get(row.channel) ?? 0));
      await this.store.markRetry(row.seq, { nextAttemptAt: until, error: failure.message, outcomeUnknown: lookingUp, answered: !lookingUp });
      this.log.warn({ ...context, retryAfterMs: failure.retryAfterMs }, 'Slack rate limit: channel paused');
      return;
    }
    const count = (this.consecutiveFailures += 1);
    const { backoffInitialMs, backoffMaxMs } = this.settings;
    const delay = Math.min(backoffMaxMs, backoffInitialMs * 2 ** Math.min(count - 1, 30));
    // A failed lookup says nothing about the post it looks for: that one's answer stands as it was.
    const answered = !lookingUp && failure.answered;
    await this.store.markRetry(row.seq, { nextAttemptAt: now + delay, error: failure.message, outcomeUnknown: failure.outcomeUnknown || lookingUp, answered });
    this.log.warn({ ...context, attempt: count, retryInMs: delay, outcomeUnknown: failure.outcomeUnknown }, 'Slack call failed: will retry');
  }

  private reportFailed(row: OutboxRow, error: string): void {
    this.lastError = `${row.kind} #${row.seq} to ${row.channel}: ${error}`;
    const cascade = row.kind === 'post-root' ? ' (and the rest of its incident timeline, which has no root to go to)' : '';
    this.log.error(
      { seq: row.seq, kind: row.kind, channel: row.channel, incidentId: row.incidentId, error },
      `Slack refused an outbox message for good; it is marked failed and will not be retried${cascade}`,
    );
  }
}

/** Failures of a file's own steps (rendering, the POST of its bytes), which are no Slack API errors. */
function fileFailure(err: unknown): SlackFailure | null {
  if (err instanceof FileRenderError) return err.retryable ? { kind: 'transient', outcomeUnknown: false, message: err.message, answered: false } : { kind: 'permanent', message: err.message, answered: true };
  // Nothing was shared before the POST failed: the row is simply sent again, no lookup needed.
  if (err instanceof FileUploadError) return { kind: 'transient', outcomeUnknown: false, message: err.message, answered: err.answered };
  return null;
}
