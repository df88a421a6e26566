import pg from 'pg';
import type { OutboxWatch } from '../app/leadership.js';
import type { Logger } from '../log/logger.js';
import { OUTBOX_CHANNEL } from './postgres-schema.js';

/**
 * LISTEN on a connection of its own for the commits that queued rows (the store NOTIFYs in
 * the same transaction). A lost connection is opened again after `retryMs`; meanwhile the
 * delivery's own poll still finds the rows, only later.
 */
export class PostgresOutboxWatch implements OutboxWatch {
  private client: pg.Client | null = null;
  private added: (() => void) | null = null;
  private retry: NodeJS.Timeout | undefined;
  private broken = false;

  constructor(
    private readonly url: string,
    private readonly options: { logger: Logger; retryMs?: number; name?: string },
  ) {}

  start(added: () => void): void {
    if (this.added) return;
    this.added = added;
    void this.listen();
  }

  async stop(): Promise<void> {
    this.added = null;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    client?.removeAllListeners();
    client?.on('error', () => undefined);
    await client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    if (!this.added) return;
    const client = new pg.Client({ connectionString: this.url, application_name: (this.options.name ?? 'lagbot outbox watch').slice(0, 63), keepAlive: true, connectionTimeoutMillis: 10_000 });
    this.client = client;
    client.on('notification', (message) => {
      if (message.channel === OUTBOX_CHANNEL) this.added?.();
    });
    client.on('error', (err) => this.lost(client, err.message));
    client.on('end', () => this.lost(client, 'connection ended'));
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (this.broken) this.options.logger.info('outbox watch listening again: clicks recorded on other replicas are delivered at once');
      this.broken = false;
      // Rows queued while this was not listening are found now, not at the next poll.
      this.added?.();
    } catch (err) {
      this.lost(client, err instanceof Error ? err.message : String(err));
    }
  }

  private lost(client: pg.Client, reason: string): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners();
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (!this.added) return;
    if (!this.broken) this.options.logger.warn({ reason }, 'outbox watch lost its connection: clicks recorded on other replicas wait for the delivery poll until it is back');
    this.broken = true;
    this.retry = setTimeout(() => void this.listen(), this.options.retryMs ?? 1_000);
    this.retry.unref();
  }
}
