import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import type { SampleRecord } from '../core/history.js';
import type { TimelineEntry } from '../core/incident.js';
import { IncidentChangedError, sameIncident, systemClock, type Clock, type Commit, type StoredSample } from '../core/ports.js';
import type { GroupRef, GroupState, Incident, SlackEffect, SlackMessage } from '../core/protocol.js';
import type { Silence } from '../core/silence.js';
import type { Logger } from '../log/logger.js';
import type { OutboxCounts, OutboxRow, OutboxState, RetryPlan } from './outbox.js';
import { LOCK_CLASS, Locks, OUTBOX_CHANNEL, migratePostgres } from './postgres-schema.js';
import { incidentOf, silenceOf, STREAM_KEY, toRow, UNFINISHED, type IncidentFilter, type OutboxRecord, type SilenceRecord } from './records.js';
import { NotLeaderError, type LagbotStore, type StoreOptions } from './store.js';

export interface PostgresStoreOptions extends StoreOptions {
  /** Where a connection that broke while idle is reported (the pool replaces it). */
  logger?: Logger;
  /** Connections in the pool. Default 4: commits are short and one process commits one check at a time. */
  maxConnections?: number;
  /** `upTo`: tests build a database as an older lagbot left it. */
  migrateUpTo?: number;
}

/**
 * BIGINT columns (times in ms, seqs, counts) as numbers: they stay far below 2^53, and the
 * core deals in numbers. Only this store's connections read them so.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** The URL as logs may show it: no password, even one given by mistake. */
export function describePostgresUrl(url: string): string {
  const shown = new URL(url);
  shown.password = '';
  return `PostgreSQL ${shown.toString()}`;
}

interface SampleRow {
  group_name: string;
  at: number;
  after_gap: boolean;
  state: GroupState;
  member_ids: string;
  total_lag: number | null;
  offsets: Buffer;
  keys: string;
}

/** Keysets no sample uses any more are dropped about once an hour of 30-second checks. */
const KEYSET_SWEEP_EVERY = 120;

/** When a silence stops: its planned end, or the early one. */
const SILENCE_END = 'LEAST(ends_at, COALESCE(ended_at, ends_at))';

const SUPERSEDE_ROOT_UPDATES = `
  UPDATE outbox SET state = 'superseded'
  WHERE incident_id = $1 AND kind = 'update-root' AND state = 'pending'
    AND seq < (SELECT MAX(seq) FROM outbox WHERE incident_id = $1 AND kind = 'update-root' AND ${UNFINISHED})`;

/**
 * Incidents, the outbox, monitor state and the lag histories in a PostgreSQL database, for
 * replicas that share one store. Each method is one statement or one transaction, with
 * SQLite's meaning; the differences are PostgreSQL's: concurrent writers (seqs are taken
 * under a lock so they follow commit order) and a network that can fail mid-call (a
 * transaction either committed or left nothing).
 */
export class PostgresIncidentStore implements LagbotStore {
  /** Keyset ids by the key list object the histories share between samples. */
  private keysets = new WeakMap<readonly string[], number>();
  private appends = 0;
  private closed: Promise<void> | undefined;
  private leaderEpoch: (() => number | null) | null = null;

  private constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    readonly outboxStamp: string,
    readonly description: string,
  ) {}

  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresIncidentStore> {
    // The password is left to node-postgres, which reads PGPASSWORD (and ~/.pgpass) like libpq.
    const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 4, connectionTimeoutMillis: 10_000, types });
    pool.on('error', (err) => options.logger?.warn({ err: err.message }, 'a PostgreSQL connection broke while idle; the pool opens a new one'));
    try {
      const client = await pool.connect();
      try {
        await migratePostgres(client, options.migrateUpTo);
      } finally {
        client.release();
      }
      const { rows } = await pool.query<{ json: string }>(`SELECT json FROM monitor_state WHERE key = 'outbox-stamp'`);
      const stamp = rows[0] ? (JSON.parse(rows[0].json) as unknown) : null;
      if (typeof stamp !== 'string' || stamp.length === 0) throw new Error('lagbot database has no outbox stamp (migration 1 did not run)');
      return new PostgresIncidentStore(pool, options.clock ?? systemClock, stamp, describePostgresUrl(url));
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  /**
   * From now on a check's commit (`asLeader`) and every Slack call (markSending) need this
   * replica to lead in the epoch the database holds. The epoch row is read FOR SHARE, so a
   * new leader's bump waits for a commit in progress and the commit never lands after it.
   */
  fenceWith(epoch: () => number | null): void {
    this.leaderEpoch = epoch;
  }

  private async fence(c: PoolClient): Promise<void> {
    if (!this.leaderEpoch) return;
    const mine = this.leaderEpoch();
    const { rows } = await c.query<{ epoch: number }>('SELECT epoch FROM lagbot_leader WHERE id = 1 FOR SHARE');
    const current = rows[0]?.epoch ?? null;
    if (mine === null || current !== mine) {
      throw new NotLeaderError(`this replica ${mine === null ? 'does not lead' : `led in epoch ${mine}`}, the database's leader epoch is ${current}: refused`);
    }
  }

  // ---- IncidentStore ----

  async openIncidentFor(ref: GroupRef): Promise<Incident | null> {
    const { rows } = await this.pool.query<{ json: string }>(`SELECT json FROM incidents WHERE cluster = $1 AND group_name = $2 AND status = 'open'`, [ref.cluster, ref.group]);
    return rows[0] ? incidentOf(rows[0].json) : null;
  }

  async openIncidents(): Promise<Incident[]> {
    const { rows } = await this.pool.query<{ json: string }>(`SELECT json FROM incidents WHERE status = 'open' ORDER BY opened_at, id`);
    return rows.map((r) => incidentOf(r.json));
  }

  async incident(id: string): Promise<Incident | null> {
    const { rows } = await this.pool.query<{ json: string }>(`SELECT json FROM incidents WHERE id = $1`, [id]);
    return rows[0] ? incidentOf(rows[0].json) : null;
  }

  async listIncidents(filter: IncidentFilter = {}): Promise<Incident[]> {
    const { rows } = await this.pool.query<{ json: string }>(
      `SELECT json FROM incidents
       WHERE ($1::text IS NULL OR cluster = $1) AND ($2::text IS NULL OR group_name = $2) AND ($3::text IS NULL OR status = $3)
         AND ($4::bigint IS NULL OR status = 'open' OR COALESCE((json::jsonb #>> '{resolved,at}')::bigint, opened_at) >= $4)
       ORDER BY opened_at DESC, id DESC LIMIT $5`,
      [filter.cluster ?? null, filter.group ?? null, filter.status ?? null, filter.since ?? null, filter.limit ?? null],
    );
    return rows.map((r) => incidentOf(r.json));
  }

  async incidentIds(): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM incidents ORDER BY opened_at DESC, id DESC`);
    return rows.map((r) => r.id);
  }

  async timeline(incidentId: string): Promise<TimelineEntry[]> {
    const { rows } = await this.pool.query<{ json: string }>(`SELECT json FROM incident_timeline WHERE incident_id = $1 ORDER BY seq`, [incidentId]);
    return rows.map((r) => JSON.parse(r.json) as TimelineEntry);
  }

  async commit(change: Commit): Promise<void> {
    const now = this.clock.now();
    const entries = change.timeline ?? [];
    if (entries.length > 0 && !change.incident) throw new Error('timeline entries are committed with their incident');
    await this.transaction(async (c) => {
      if (change.asLeader) await this.fence(c);
      // Seqs come from a sequence, taken when a row is inserted, not when it commits: two
      // replicas committing at once could make a stream's later row visible before its
      // earlier one, and delivery would send it first. Under this lock seqs follow commits.
      if (entries.length > 0 || (change.effects ?? []).length > 0) await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, Locks.append]);
      if (change.basedOn) {
        // FOR UPDATE: a commit of the same incident on another replica waits for this one, then sees it.
        const { rows } = await c.query<{ json: string }>(`SELECT json FROM incidents WHERE id = $1 FOR UPDATE`, [change.basedOn.id]);
        if (!sameIncident(rows[0] ? incidentOf(rows[0].json) : null, change.basedOn)) throw new IncidentChangedError(change.basedOn.id);
      }
      if (change.incident) await saveIncident(c, change.incident);
      for (const entry of entries) {
        await c.query(`INSERT INTO incident_timeline (incident_id, at, kind, json) VALUES ($1, $2, $3, $4)`, [change.incident?.id ?? '', entry.at, entry.kind, JSON.stringify(entry)]);
      }
      for (const effect of change.effects ?? []) await enqueue(c, effect, now);
      // Delivered by PostgreSQL when (and only if) the transaction commits.
      if ((change.effects ?? []).length > 0) await c.query('SELECT pg_notify($1, $2)', [OUTBOX_CHANNEL, '']);
      for (const [key, value] of Object.entries(change.state ?? {})) {
        // JSON has no undefined: an undefined value removes the key.
        if (value === undefined) await c.query(`DELETE FROM monitor_state WHERE key = $1`, [key]);
        else await c.query(`INSERT INTO monitor_state (key, json) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET json = excluded.json`, [key, JSON.stringify(value)]);
      }
    });
  }

  async state<T>(key: string): Promise<T | null> {
    const { rows } = await this.pool.query<{ json: string }>(`SELECT json FROM monitor_state WHERE key = $1`, [key]);
    return rows[0] ? (JSON.parse(rows[0].json) as T) : null;
  }

  // ---- OutboxStore ----

  async rootPending(incidentId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ n: number }>(`SELECT COUNT(*) AS n FROM outbox WHERE incident_id = $1 AND kind = 'post-root' AND ${UNFINISHED}`, [incidentId]);
    return (rows[0]?.n ?? 0) > 0;
  }

  async rootMessage(incidentId: string): Promise<{ channel: string; ts: string } | null> {
    const own = await this.pool.query<{ channel: string; ts: string }>(
      `SELECT root_channel AS channel, root_ts AS ts FROM incidents WHERE id = $1 AND root_ts IS NOT NULL AND root_channel IS NOT NULL`,
      [incidentId],
    );
    if (own.rows[0]) return { channel: own.rows[0].channel, ts: own.rows[0].ts };
    // For effects whose incident was never saved: the delivered root post still says where it is.
    const posted = await this.pool.query<{ channel: string; ts: string }>(
      `SELECT channel, slack_ts AS ts FROM outbox
       WHERE incident_id = $1 AND kind = 'post-root' AND state = 'delivered' AND slack_ts IS NOT NULL
       ORDER BY seq DESC LIMIT 1`,
      [incidentId],
    );
    return posted.rows[0] ? { channel: posted.rows[0].channel, ts: posted.rows[0].ts } : null;
  }

  async outboxHeads(limit: number): Promise<OutboxRow[]> {
    const { rows } = await this.pool.query<OutboxRecord>(
      `SELECT * FROM outbox WHERE seq IN (
         SELECT MIN(seq) FROM outbox WHERE ${UNFINISHED} GROUP BY ${STREAM_KEY}
       ) ORDER BY seq LIMIT $1`,
      [limit],
    );
    return rows.map(toRow);
  }

  async outboxRow(seq: number): Promise<OutboxRow | null> {
    const { rows } = await this.pool.query<OutboxRecord>(`SELECT * FROM outbox WHERE seq = $1`, [seq]);
    return rows[0] ? toRow(rows[0]) : null;
  }

  async outboxRows(): Promise<OutboxRow[]> {
    const { rows } = await this.pool.query<OutboxRecord>(`SELECT * FROM outbox ORDER BY seq`);
    return rows.map(toRow);
  }

  async markSending(seq: number): Promise<boolean> {
    return this.transaction(async (c) => {
      await this.fence(c);
      const result = await c.query(
        `UPDATE outbox SET state = 'sending', attempts = attempts + 1, last_attempt_at = $2, last_answer_at = NULL WHERE seq = $1 AND ${UNFINISHED}`,
        [seq, this.clock.now()],
      );
      return result.rowCount === 1;
    });
  }

  async markDelivered(seq: number, ts: string, channel?: string): Promise<void> {
    await this.transaction(async (c) => {
      const { rows } = await c.query<OutboxRecord>(`SELECT * FROM outbox WHERE seq = $1 FOR UPDATE`, [seq]);
      const row = rows[0];
      if (!row) return;
      const done = await c.query(`UPDATE outbox SET state = 'delivered', slack_ts = $2, delivered_at = $3, last_error = NULL WHERE seq = $1 AND ${UNFINISHED}`, [seq, ts, this.clock.now()]);
      if (done.rowCount !== 1) return;
      if (row.kind === 'post-root' && row.incident_id !== null) {
        await c.query(`UPDATE incidents SET root_channel = $1, root_ts = $2 WHERE id = $3`, [channel ?? row.channel, ts, row.incident_id]);
      }
    });
  }

  async markRetry(seq: number, plan: RetryPlan): Promise<void> {
    await this.transaction(async (c) => {
      const { rows } = await c.query<OutboxRecord>(`SELECT * FROM outbox WHERE seq = $1 FOR UPDATE`, [seq]);
      const row = rows[0];
      if (!row) return;
      // An edit is idempotent, so its outcome never needs finding out: it is simply sent again.
      const state: OutboxState = plan.outcomeUnknown && row.kind !== 'update-root' ? 'sending' : 'pending';
      await c.query(
        `UPDATE outbox SET state = $2, next_attempt_at = $3, last_error = $4, last_answer_at = COALESCE($5, last_answer_at) WHERE seq = $1 AND ${UNFINISHED}`,
        [seq, state, plan.nextAttemptAt, plan.error, plan.answered ? this.clock.now() : null],
      );
      if (row.kind === 'update-root' && row.incident_id !== null) await c.query(SUPERSEDE_ROOT_UPDATES, [row.incident_id]);
    });
  }

  async markFailed(seq: number, error: string): Promise<void> {
    await this.transaction(async (c) => {
      const { rows } = await c.query<OutboxRecord>(`SELECT * FROM outbox WHERE seq = $1 FOR UPDATE`, [seq]);
      const row = rows[0];
      if (!row) return;
      const done = await c.query(`UPDATE outbox SET state = 'failed', last_error = $2 WHERE seq = $1 AND ${UNFINISHED}`, [seq, error]);
      if (done.rowCount !== 1) return;
      if (row.kind === 'post-root' && row.incident_id !== null) {
        await c.query(`UPDATE outbox SET state = 'failed', last_error = $3 WHERE incident_id = $1 AND seq > $2 AND ${UNFINISHED}`, [
          row.incident_id,
          seq,
          `root message (outbox #${seq}) failed: ${error}`,
        ]);
      }
    });
  }

  async markFileUploaded(seq: number, fileId: string): Promise<void> {
    await this.pool.query(`UPDATE outbox SET slack_file_id = $2 WHERE seq = $1 AND ${UNFINISHED}`, [seq, fileId]);
  }

  async inDoubt(): Promise<OutboxRow[]> {
    const { rows } = await this.pool.query<OutboxRecord>(`SELECT * FROM outbox WHERE state = 'sending' ORDER BY seq`);
    return rows.map(toRow);
  }

  async outboxCounts(): Promise<OutboxCounts> {
    const { rows } = await this.pool.query<OutboxCounts>(`
      SELECT
        (SELECT COUNT(*) FROM outbox WHERE state = 'pending') AS pending,
        (SELECT COUNT(*) FROM outbox WHERE state = 'sending') AS sending,
        (SELECT COUNT(*) FROM outbox WHERE state = 'failed') AS failed,
        (SELECT MAX(delivered_at) FROM outbox) AS "lastDeliveredAt"`);
    return rows[0] ?? { pending: 0, sending: 0, failed: 0, lastDeliveredAt: null };
  }

  async pruneOutbox(before: number): Promise<number> {
    const result = await this.pool.query(`DELETE FROM outbox WHERE state IN ('delivered', 'superseded') AND created_at < $1`, [before]);
    return result.rowCount ?? 0;
  }

  // ---- SilenceStore: any replica records them, like clicks (no fence) ----

  async addSilence(silence: Silence): Promise<void> {
    if (silence.endedEarly) throw new Error('a silence is added before anyone ends it');
    await this.pool.query(
      'INSERT INTO silences (id, target, by_user, reason, created_at, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [silence.id, JSON.stringify(silence.target), silence.by, silence.reason, silence.createdAt, silence.startsAt, silence.endsAt],
    );
  }

  async silence(id: string): Promise<Silence | null> {
    const { rows } = await this.pool.query<SilenceRecord>('SELECT * FROM silences WHERE id = $1', [id]);
    return rows[0] ? silenceOf(rows[0]) : null;
  }

  async silencesSince(since: number): Promise<Silence[]> {
    const { rows } = await this.pool.query<SilenceRecord>(`SELECT * FROM silences WHERE ${SILENCE_END} >= $1 ORDER BY created_at, id`, [since]);
    return rows.map(silenceOf);
  }

  async endSilenceEarly(id: string, by: string, at: number): Promise<boolean> {
    // One statement: of two people ending it at once, the second finds ended_at set.
    const result = await this.pool.query('UPDATE silences SET ended_by = $2, ended_at = $3 WHERE id = $1 AND ended_at IS NULL AND ends_at > $3', [id, by, at]);
    return result.rowCount === 1;
  }

  async pruneSilences(before: number): Promise<number> {
    const result = await this.pool.query(`DELETE FROM silences WHERE ${SILENCE_END} < $1`, [before]);
    return result.rowCount ?? 0;
  }

  // ---- HistoryStore ----

  async appendSamples(cluster: string, samples: readonly StoredSample[], before: number): Promise<void> {
    await this.transaction(async (c) => {
      const keysets = await this.keysetsOf(
        c,
        samples.map((s) => s.record.keys),
      );
      // One statement for the whole check, whatever the number of groups: arrays, unnested.
      const columns = { group: [] as string[], at: [] as number[], afterGap: [] as boolean[], state: [] as string[], memberIds: [] as string[], totalLag: [] as (number | null)[], keyset: [] as number[], offsets: [] as Buffer[] };
      for (const { group, record } of samples) {
        columns.group.push(group);
        columns.at.push(record.at);
        columns.afterGap.push(record.afterGap);
        columns.state.push(record.state);
        columns.memberIds.push(JSON.stringify(record.memberIds));
        columns.totalLag.push(record.totalLag);
        columns.keyset.push(keysets.get(record.keys) as number);
        columns.offsets.push(Buffer.from(record.values.buffer, record.values.byteOffset, record.values.byteLength));
      }
      if (samples.length > 0) {
        await c.query(
          `INSERT INTO history_samples (cluster, group_name, at, after_gap, state, member_ids, total_lag, keyset, offsets)
           SELECT $1::text, * FROM unnest($2::text[], $3::bigint[], $4::boolean[], $5::text[], $6::text[], $7::double precision[], $8::integer[], $9::bytea[])
           ON CONFLICT (cluster, group_name, at) DO UPDATE SET
             after_gap = excluded.after_gap, state = excluded.state, member_ids = excluded.member_ids,
             total_lag = excluded.total_lag, keyset = excluded.keyset, offsets = excluded.offsets`,
          [cluster, columns.group, columns.at, columns.afterGap, columns.state, columns.memberIds, columns.totalLag, columns.keyset, columns.offsets],
        );
      }
      await c.query(`DELETE FROM history_samples WHERE cluster = $1 AND at < $2`, [cluster, before]);
      if ((this.appends += 1) % KEYSET_SWEEP_EVERY === 0) {
        await c.query(`DELETE FROM history_keysets k WHERE NOT EXISTS (SELECT 1 FROM history_samples s WHERE s.keyset = k.id)`);
        this.keysets = new WeakMap();
      }
    });
  }

  async loadSamples(cluster: string, since: number): Promise<StoredSample[]> {
    const { rows } = await this.pool.query<SampleRow>(
      `SELECT s.group_name, s.at, s.after_gap, s.state, s.member_ids, s.total_lag, s.offsets, k.keys
       FROM history_samples s JOIN history_keysets k ON k.id = s.keyset
       WHERE s.cluster = $1 AND s.at >= $2 ORDER BY s.group_name, s.at`,
      [cluster, since],
    );
    const shared = new Map<string, string[]>();
    return rows.map((row) => {
      let keys = shared.get(row.keys);
      if (!keys) shared.set(row.keys, (keys = JSON.parse(row.keys) as string[]));
      // One copy into a fresh, 8-byte aligned buffer: the driver's Buffer may sit at any offset.
      const values = new Float64Array(new Uint8Array(row.offsets).buffer);
      const record: SampleRecord = { at: row.at, afterGap: row.after_gap, state: row.state, memberIds: JSON.parse(row.member_ids) as string[], totalLag: row.total_lag, keys, values };
      return { group: row.group_name, record };
    });
  }

  close(): Promise<void> {
    this.closed ??= this.pool.end();
    return this.closed;
  }

  /** The keyset id of each key list, creating the ones the database does not have, in two statements. */
  private async keysetsOf(c: PoolClient, lists: readonly (readonly string[])[]): Promise<Map<readonly string[], number>> {
    const ids = new Map<readonly string[], number>();
    const missing = new Map<string, (readonly string[])[]>();
    for (const keys of lists) {
      const known = this.keysets.get(keys);
      if (known !== undefined) ids.set(keys, known);
      else {
        const text = JSON.stringify(keys);
        missing.set(text, [...(missing.get(text) ?? []), keys]);
      }
    }
    if (missing.size === 0) return ids;
    const texts = [...missing.keys()];
    await c.query(`INSERT INTO history_keysets (keys) SELECT unnest($1::text[]) ON CONFLICT ((md5(keys))) DO NOTHING`, [texts]);
    const { rows } = await c.query<{ id: number; keys: string }>(`SELECT id, keys FROM history_keysets WHERE md5(keys) = ANY (SELECT md5(t) FROM unnest($1::text[]) t)`, [texts]);
    for (const row of rows) {
      for (const keys of missing.get(row.keys) ?? []) {
        ids.set(keys, row.id);
        this.keysets.set(keys, row.id);
      }
    }
    return ids;
  }

  /** One transaction on one connection; a connection that failed mid-way is thrown away, not reused. */
  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollback: unknown) => {
        broken = rollback instanceof Error ? rollback : new Error(String(rollback));
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

async function saveIncident(c: PoolClient, incident: Incident): Promise<void> {
  await c.query(
    `INSERT INTO incidents (id, cluster, group_name, status, channel, opened_at, json)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET
       cluster = excluded.cluster, group_name = excluded.group_name, status = excluded.status, channel = excluded.channel,
       opened_at = excluded.opened_at, json = excluded.json`,
    [incident.id, incident.cluster, incident.group, incident.status, incident.channel, incident.openedAt, JSON.stringify(incident)],
  );
}

async function enqueue(c: PoolClient, effect: SlackEffect, now: number): Promise<void> {
  const incidentId = effect.kind === 'post-channel' ? null : effect.incidentId;
  const message: SlackMessage = effect.kind === 'post-file' ? { text: effect.file.title, blocks: [] } : effect.message;
  const file = effect.kind === 'post-file' ? JSON.stringify(effect.file) : null;
  await c.query(`INSERT INTO outbox (incident_id, channel, kind, message, file, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`, [
    incidentId,
    effect.channel,
    effect.kind,
    JSON.stringify(message),
    file,
    now,
  ]);
  if (effect.kind === 'update-root') await c.query(SUPERSEDE_ROOT_UPDATES, [effect.incidentId]);
}

export function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresIncidentStore> {
  return PostgresIncidentStore.open(url, options);
}
