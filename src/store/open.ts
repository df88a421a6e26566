import type { StoreTarget } from '../config/alerting.js';
import type { Logger } from '../log/logger.js';
import { openPostgresStore } from './postgres-store.js';
import { openSqliteStore } from './sqlite-store.js';
import type { LagbotStore, StoreOptions } from './store.js';

/** The configured store, migrated to this lagbot's schema: SQLite's file, or a PostgreSQL database. */
export async function openStore(target: StoreTarget, options: StoreOptions & { logger?: Logger } = {}): Promise<LagbotStore> {
  if (target.kind === 'sqlite') return openSqliteStore(target.path, options.clock ? { clock: options.clock } : {});
  return openPostgresStore(target.url, options);
}
