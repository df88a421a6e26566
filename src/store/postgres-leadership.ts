import { hostname } from 'node:os';
import pg from 'pg';
import type { Leadership } from '../app/leadership.js';
import type { Logger } from '../log/logger.js';
import { LOCK_CLASS, Locks } from './postgres-schema.js';

export interface PostgresLeadershipOptions {
  /** How often a standby tries for the lock, and the leader checks it still holds it: the check interval. */
  intervalMs: number;
  logger: Logger;
  /** Names this replica in lagbot_leader.holder and in pg_stat_activity. */
  holder?: string;
}

/**
 * Leadership through PostgreSQL itself: the leader holds a session advisory lock on a
 * connection of its own, so the lock goes when the process or its connection does, and
 * standbys try for it every interval (pg_try_advisory_lock). Each new leader bumps the
 * epoch in lagbot_leader; the store fences the leader's commits and Slack calls with it.
 */
export class PostgresLeadership implements Leadership {
  private client: pg.Client | null = null;
  private epochHeld: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((leader: boolean) => void | Promise<void>)[] = [];
  /**
   * Whether the work the last change started (stopping the checks of a term that ended) is
   * done. A replica tries for the lock again only then, so that no check of an old term is
   * still running, and committing, when it leads in a new one.
   */
  private settled = true;
  private running = false;
  private attempt: Promise<void> | null = null;
  /** A replica that just lost the lock lets the others take it first: no flapping back to the one whose connection failed. */
  private notBefore = 0;
  readonly holder: string;

  constructor(
    private readonly url: string,
    private readonly options: PostgresLeadershipOptions,
  ) {
    this.holder = options.holder ?? `${hostname()}:${process.pid}`;
  }

  isLeader(): boolean {
    return this.epochHeld !== null;
  }

  /** The epoch this replica leads in, or null when it does not lead. */
  epoch(): number | null {
    return this.epochHeld;
  }

  onChange(listener: (leader: boolean) => void | Promise<void>): void {
    this.listeners.push(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = () => {
      this.attempt ??= this.tick().finally(() => (this.attempt = null));
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    await this.attempt;
    // Ending the session releases the lock at once: a standby takes over at its next try.
    this.lost('stopping');
  }

  private async tick(): Promise<void> {
    try {
      if (this.epochHeld !== null) {
        // Still ours only while the session lives: a query on it says so.
        await this.client?.query('SELECT 1');
        return;
      }
      if (Date.now() < this.notBefore || !this.settled) return;
      const client = await this.connection();
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_CLASS, Locks.leader]);
      if (!rows[0]?.locked || !this.running) {
        if (rows[0]?.locked) await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, Locks.leader]);
        return;
      }
      const bumped = await client.query<{ epoch: number }>('UPDATE lagbot_leader SET epoch = epoch + 1, holder = $1, since = $2 WHERE id = 1 RETURNING epoch', [this.holder, Date.now()]);
      const epoch = Number(bumped.rows[0]?.epoch);
      this.epochHeld = epoch;
      this.options.logger.info({ epoch, holder: this.holder }, 'leader: this replica runs the checks and delivers to Slack');
      this.tell(true);
    } catch (err) {
      this.lost(err instanceof Error ? err.message : String(err));
    }
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.url, application_name: `lagbot leader ${this.holder}`.slice(0, 63), keepAlive: true, connectionTimeoutMillis: 10_000 });
    // A cut connection (the server gone, pg_terminate_backend) ends leadership at once, not at the next tick.
    client.on('error', (err) => this.lost(err.message));
    client.on('end', () => this.lost('connection ended'));
    this.client = client;
    try {
      await client.connect();
    } catch (err) {
      this.client = null;
      throw err;
    }
    return client;
  }

  private lost(reason: string): void {
    const client = this.client;
    this.client = null;
    client?.removeAllListeners('end');
    client?.on('error', () => undefined);
    void client?.end().catch(() => undefined);
    if (this.epochHeld === null) return;
    const epoch = this.epochHeld;
    this.epochHeld = null;
    this.notBefore = Date.now() + 2 * this.options.intervalMs;
    this.options.logger.warn({ epoch, reason }, 'no longer leader: checks and delivery stop here; a standby takes over');
    this.tell(false);
  }

  private tell(leader: boolean): void {
    const work = this.listeners.map(async (listener) => {
      try {
        await listener(leader);
      } catch (err) {
        this.options.logger.error({ err }, 'a leadership listener failed');
      }
    });
    this.settled = false;
    void Promise.all(work).then(() => (this.settled = true));
  }
}
