import { noOutboxWatch, soleLeader, type Leadership, type OutboxWatch } from '../app/leadership.js';
import type { StoreTarget } from '../config/alerting.js';
import type { Logger } from '../log/logger.js';
import { openSqliteStore } from './sqlite-store.js';
import type { LagbotStore, StoreOptions } from './store.js';

// node-postgres is loaded only for a PostgreSQL store: imported at start it holds about 4 MB
// of resident memory in every SQLite lagbot, which never uses it (BENCHMARKS.md, issue 11).
const postgresStore = () => import('./postgres-store.js');
const postgresLeadership = () => import('./postgres-leadership.js');
const postgresOutboxWatch = () => import('./postgres-outbox-watch.js');

/** The configured store, migrated to this lagbot's schema: SQLite's file, or a PostgreSQL database. */
export async function openStore(target: StoreTarget, options: StoreOptions & { logger?: Logger } = {}): Promise<LagbotStore> {
  if (target.kind === 'sqlite') return openSqliteStore(target.path, options.clock ? { clock: options.clock } : {});
  return (await postgresStore()).openPostgresStore(target.url, options);
}

/**
 * The store of a running lagbot and who leads on it: SQLite's one process always leads; on
 * PostgreSQL the replicas take turns on an advisory lock, and the store refuses a check's
 * commit or a Slack call from a replica whose turn is over. `outbox` tells of rows another
 * replica queued (a click it recorded), for the leader to deliver at once.
 */
export async function openReplicaStore(
  target: StoreTarget,
  options: StoreOptions & { logger: Logger; intervalMs: number },
): Promise<{ store: LagbotStore; leadership: Leadership; outbox: OutboxWatch }> {
  if (target.kind === 'sqlite') return { store: await openStore(target, options), leadership: soleLeader(), outbox: noOutboxWatch };
  const [{ openPostgresStore }, { PostgresLeadership }, { PostgresOutboxWatch }] = await Promise.all([
    postgresStore(),
    postgresLeadership(),
    postgresOutboxWatch(),
  ]);
  const store = await openPostgresStore(target.url, options);
  const leadership = new PostgresLeadership(target.url, { intervalMs: options.intervalMs, logger: options.logger.child({ component: 'leadership' }) });
  store.fenceWith(() => leadership.epoch());
  const outbox = new PostgresOutboxWatch(target.url, { logger: options.logger.child({ component: 'outbox-watch' }), name: `lagbot outbox ${leadership.holder}` });
  return { store, leadership, outbox };
}
