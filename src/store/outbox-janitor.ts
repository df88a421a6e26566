import type { Clock } from '../core/ports.js';
import type { Logger } from '../log/logger.js';

const HOUR = 3_600_000;

/**
 * Keeps the outbox from growing forever: delivered and superseded rows older than the
 * retention are pruned at start and then every hour. Pending, in-doubt and failed rows
 * are never pruned; they are what an operator looks into.
 */
export class OutboxJanitor {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: { pruneOutbox(before: number): Promise<number> },
    private readonly options: { retentionMs: number; clock: Clock; logger: Logger; everyMs?: number },
  ) {}

  /** Prunes once; returns how many rows went. */
  async prune(): Promise<number> {
    const pruned = await this.store.pruneOutbox(this.options.clock.now() - this.options.retentionMs);
    if (pruned > 0) this.options.logger.info({ pruned }, 'pruned delivered outbox rows past their retention');
    return pruned;
  }

  start(): void {
    if (this.timer) return;
    const prune = () => this.prune().catch((err: unknown) => this.options.logger.error({ err }, 'could not prune the outbox'));
    void prune();
    this.timer = setInterval(() => void prune(), this.options.everyMs ?? HOUR);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
