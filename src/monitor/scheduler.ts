import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log/logger.js';

/**
 * Runs the check on its cron schedule. A check still running when the next one is due
 * is not started twice (node-cron's noOverlap); the skipped tick is logged, because a
 * check slower than its interval is itself worth knowing about.
 */
export class CheckScheduler {
  private task: ScheduledTask | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly schedule: string,
    private readonly check: () => Promise<unknown>,
    private readonly logger: Logger,
  ) {
    if (!cron.validate(schedule)) throw new Error(`invalid check schedule "${schedule}"`);
  }

  start(): void {
    if (this.task) return;
    this.task = cron.schedule(
      this.schedule,
      async () => {
        this.running = this.check();
        try {
          await this.running;
        } catch (error) {
          this.logger.error({ err: error }, 'check crashed');
        } finally {
          this.running = null;
        }
      },
      { name: 'lag-check', noOverlap: true },
    );
    this.task.on('execution:overlap', () => this.logger.warn('check still running at its next tick: skipped one (checks are slower than the schedule)'));
  }

  /** Stop scheduling and wait for a check in progress to finish. */
  async stop(): Promise<void> {
    const task = this.task;
    this.task = null;
    if (task) await task.destroy();
    await this.running?.catch(() => undefined);
  }
}
