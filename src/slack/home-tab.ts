import type { HomeView } from '@slack/types';
import Bottleneck from 'bottleneck';
import type { Clock } from '../core/ports.js';
import type { Logger } from '../log/logger.js';

export interface HomeTabOptions {
  /** views.publish of one user's Home tab; rejects when Slack refused it. */
  publish: (user: string, view: HomeView) => Promise<void>;
  /** The Home tab as of now, as this user may see it (the access rules). */
  view: (user: string) => HomeView | Promise<HomeView>;
  clock: Clock;
  logger: Logger;
  /** Changes within this long of the first are published together. Default 2 s. */
  debounceMs?: number;
  /** Users who opened Home within this long are kept up to date. Default 1 h. */
  viewerTtlMs?: number;
  /** At most this many such users; the one who opened Home longest ago goes first. Default 200. */
  maxViewers?: number;
  /** Least time between two views.publish calls. Default 600 ms: 100 a minute, Slack's Tier 4. */
  publishMinTimeMs?: number;
}

/** What the App Home listener needs. */
export interface HomeOpened {
  opened(user: string): Promise<void>;
}

/**
 * The App Home tab, kept up to date for the users who opened it recently. Slack keeps the
 * last view published to each user, so a change is pushed, not pulled: on open, and when an
 * incident changes (debounced, one publish per user however many changes came, rate
 * limited). Who opened Home is remembered in memory only: after a restart a user's tab
 * stays as last published until they open it again, which republishes it. A refused or
 * failed publish is logged and affects nothing else.
 */
export class HomeTab implements HomeOpened {
  /** User → when they last opened Home; insertion order is least recent first. */
  private readonly viewers = new Map<string, number>();
  /** Users with a publish waiting for its turn: it will carry the newest view, so one is enough. */
  private readonly waiting = new Set<string>();
  private readonly limiter: Bottleneck;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly debounceMs: number;
  private readonly viewerTtlMs: number;
  private readonly maxViewers: number;

  constructor(private readonly options: HomeTabOptions) {
    this.debounceMs = options.debounceMs ?? 2_000;
    this.viewerTtlMs = options.viewerTtlMs ?? 3_600_000;
    this.maxViewers = options.maxViewers ?? 200;
    this.limiter = new Bottleneck({ maxConcurrent: 1, minTime: options.publishMinTimeMs ?? 600 });
  }

  /** A user opened the Home tab: remember them and publish their view now. */
  opened(user: string): Promise<void> {
    this.viewers.delete(user);
    this.viewers.set(user, this.options.clock.now());
    for (const oldest of this.viewers.keys()) {
      if (this.viewers.size <= this.maxViewers) break;
      this.viewers.delete(oldest);
    }
    return this.enqueue(user);
  }

  /** Something the Home tab shows changed: republish for recent viewers, once, after the debounce. */
  changed(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.republish();
    }, this.debounceMs);
    this.timer.unref();
  }

  /** Users whose Home tab is kept up to date, least recent first. */
  recentViewers(): string[] {
    this.forgetExpired();
    return [...this.viewers.keys()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }

  private republish(): void {
    for (const user of this.recentViewers()) void this.enqueue(user);
  }

  private forgetExpired(): void {
    const cutoff = this.options.clock.now() - this.viewerTtlMs;
    for (const [user, at] of this.viewers) if (at < cutoff) this.viewers.delete(user);
  }

  private enqueue(user: string): Promise<void> {
    if (this.stopped || this.waiting.has(user)) return Promise.resolve();
    this.waiting.add(user);
    return this.limiter
      .schedule(async () => {
        // A change from here on queues another publish: this one may already miss it.
        this.waiting.delete(user);
        if (this.stopped) return;
        try {
          await this.options.publish(user, await this.options.view(user));
        } catch (err) {
          this.options.logger.warn({ err: errorText(err), user }, 'could not publish the App Home tab');
        }
      })
      .catch(() => {
        // Dropped by stop(): nothing to publish to any more.
        this.waiting.delete(user);
      });
  }
}

/** The Web API's "An API error occurred: invalid_arguments" says less than its data. */
function errorText(err: unknown): string {
  const data = typeof err === 'object' && err !== null && 'data' in err ? (err.data as { error?: unknown; response_metadata?: unknown }) : undefined;
  if (typeof data?.error === 'string') return `views.publish answered ${data.error}${data.response_metadata ? ` ${JSON.stringify(data.response_metadata)}` : ''}`;
  return err instanceof Error ? err.message : String(err);
}
