import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import type { SampleRecord } from '../core/history.js';
import type { TimelineEntry } from '../core/incident.js';
import { IncidentChangedError, sameIncident, systemClock, type Clock, type Commit, type StoredSample } from '../core/ports.js';
import type { Silence } from '../core/silence.js';
import type { GroupRef, GroupState, Incident, SlackEffect, SlackMessage } from '../core/protocol.js';
import type { OutboxCounts, OutboxKind, OutboxRow, OutboxState, RetryPlan } from './outbox.js';
import { incidentOf, silenceOf, STREAM_KEY, toRow, UNFINISHED, type IncidentFilter, type OutboxRecord, type SilenceRecord } from './records.js';
import { migrate } from './sqlite-schema.js';
import type { LagbotStore } from './store.js';

export interface SqliteStoreOptions {
  /** Stamps outbox rows (created, delivered); tests pass a fake one. */
  clock?: Clock;
}

/** When a silence stops: its planned end, or the early one. */
const SILENCE_END = 'MIN(ends_at, COALESCE(ended_at, ends_at))';

function prepareStatements(db: Db) {
  return {
    insertSilence: db.prepare<{ id: string; target: string; by: string; reason: string | null; createdAt: number; startsAt: number; endsAt: number }>(`
      INSERT INTO silences (id, target, by_user, reason, created_at, starts_at, ends_at) VALUES (@id, @target, @by, @reason, @createdAt, @startsAt, @endsAt)`),
    silence: db.prepare<[string], SilenceRecord>(`SELECT * FROM silences WHERE id = ?`),
    silencesSince: db.prepare<[number], SilenceRecord>(`SELECT * FROM silences WHERE ${SILENCE_END} >= ? ORDER BY created_at, id`),
    endSilence: db.prepare<{ id: string; by: string; at: number }>(`
      UPDATE silences SET ended_by = @by, ended_at = @at WHERE id = @id AND ended_at IS NULL AND ends_at > @at`),
    pruneSilences: db.prepare<[number]>(`DELETE FROM silences WHERE ${SILENCE_END} < ?`),
    upsertIncident: db.prepare<{ id: string; cluster: string; group: string; status: string; channel: string; openedAt: number; json: string }>(`
      INSERT INTO incidents (id, cluster, group_name, status, channel, opened_at, json)
      VALUES (@id, @cluster, @group, @status, @channel, @openedAt, @json)
      ON CONFLICT (id) DO UPDATE SET
        cluster = excluded.cluster, group_name = excluded.group_name, status = excluded.status, channel = excluded.channel,
        opened_at = excluded.opened_at, json = excluded.json`),
    openIncidentFor: db.prepare<[string, string], { json: string }>(`SELECT json FROM incidents WHERE cluster = ? AND group_name = ? AND status = 'open'`),
    openIncidents: db.prepare<[], { json: string }>(`SELECT json FROM incidents WHERE status = 'open' ORDER BY opened_at, id`),
    incident: db.prepare<[string], { json: string }>(`SELECT json FROM incidents WHERE id = ?`),
    incidentIds: db.prepare<[], { id: string }>(`SELECT id FROM incidents ORDER BY opened_at DESC, id DESC`),
    listIncidents: db.prepare<{ cluster: string | null; group: string | null; status: string | null; since: number | null; limit: number }, { json: string }>(`
      SELECT json FROM incidents
      WHERE (@cluster IS NULL OR cluster = @cluster) AND (@group IS NULL OR group_name = @group) AND (@status IS NULL OR status = @status)
        AND (@since IS NULL OR status = 'open' OR COALESCE(json_extract(json, '$.resolved.at'), opened_at) >= @since)
      ORDER BY opened_at DESC, id DESC LIMIT @limit`),
    insertTimeline: db.prepare<{ incidentId: string; at: number; kind: string; json: string }>(
      `INSERT INTO incident_timeline (incident_id, at, kind, json) VALUES (@incidentId, @at, @kind, @json)`,
    ),
    timeline: db.prepare<[string], { json: string }>(`SELECT json FROM incident_timeline WHERE incident_id = ? ORDER BY seq`),
    setRoot: db.prepare<[string, string, string]>(`UPDATE incidents SET root_channel = ?, root_ts = ? WHERE id = ?`),
    rootOfIncident: db.prepare<[string], { channel: string; ts: string }>(
      `SELECT root_channel AS channel, root_ts AS ts FROM incidents WHERE id = ? AND root_ts IS NOT NULL AND root_channel IS NOT NULL`,
    ),
    // For effects whose incident was never saved: the delivered root post still says where it is.
    rootFromOutbox: db.prepare<[string], { channel: string; ts: string }>(`
      SELECT channel, slack_ts AS ts FROM outbox
      WHERE incident_id = ? AND kind = 'post-root' AND state = 'delivered' AND slack_ts IS NOT NULL
      ORDER BY seq DESC LIMIT 1`),
    enqueue: db.prepare<{ incidentId: string | null; channel: string; kind: OutboxKind; message: string; file: string | null; now: number }>(`
      INSERT INTO outbox (incident_id, channel, kind, message, file, next_attempt_at, created_at)
      VALUES (@incidentId, @channel, @kind, @message, @file, @now, @now)`),
    markFileUploaded: db.prepare<{ seq: number; fileId: string }>(`UPDATE outbox SET slack_file_id = @fileId WHERE seq = @seq AND ${UNFINISHED}`),
    // A root edit carries the incident's whole current state, so any older unsent edit is moot.
    supersedeRootUpdates: db.prepare<{ incidentId: string }>(`
      UPDATE outbox SET state = 'superseded'
      WHERE incident_id = @incidentId AND kind = 'update-root' AND state = 'pending'
        AND seq < (SELECT MAX(seq) FROM outbox WHERE incident_id = @incidentId AND kind = 'update-root' AND ${UNFINISHED})`),
    upsertState: db.prepare<[string, string]>(
      `INSERT INTO monitor_state (key, json) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET json = excluded.json`,
    ),
    deleteState: db.prepare<[string]>(`DELETE FROM monitor_state WHERE key = ?`),
    state: db.prepare<[string], { json: string }>(`SELECT json FROM monitor_state WHERE key = ?`),
    heads: db.prepare<[number], OutboxRecord>(`
      SELECT * FROM outbox WHERE seq IN (
        SELECT MIN(seq) FROM outbox WHERE ${UNFINISHED} GROUP BY ${STREAM_KEY}
      ) ORDER BY seq LIMIT ?`),
    row: db.prepare<[number], OutboxRecord>(`SELECT * FROM outbox WHERE seq = ?`),
    rows: db.prepare<[], OutboxRecord>(`SELECT * FROM outbox ORDER BY seq`),
    inDoubt: db.prepare<[], OutboxRecord>(`SELECT * FROM outbox WHERE state = 'sending' ORDER BY seq`),
    markSending: db.prepare<{ seq: number; now: number }>(
      `UPDATE outbox SET state = 'sending', attempts = attempts + 1, last_attempt_at = @now, last_answer_at = NULL WHERE seq = @seq AND ${UNFINISHED}`,
    ),
    markDelivered: db.prepare<{ seq: number; ts: string; now: number }>(`
      UPDATE outbox SET state = 'delivered', slack_ts = @ts, delivered_at = @now, last_error = NULL
      WHERE seq = @seq AND ${UNFINISHED}`),
    markRetry: db.prepare<{ seq: number; state: OutboxState; nextAttemptAt: number; error: string; answeredAt: number | null }>(`
      UPDATE outbox SET state = @state, next_attempt_at = @nextAttemptAt, last_error = @error,
        last_answer_at = COALESCE(@answeredAt, last_answer_at)
      WHERE seq = @seq AND ${UNFINISHED}`),
    markFailed: db.prepare<{ seq: number; error: string }>(
      `UPDATE outbox SET state = 'failed', last_error = @error WHERE seq = @seq AND ${UNFINISHED}`,
    ),
    rootUnfinished: db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS n FROM outbox WHERE incident_id = ? AND kind = 'post-root' AND ${UNFINISHED}`),
    failIncidentRest: db.prepare<{ incidentId: string; seq: number; error: string }>(`
      UPDATE outbox SET state = 'failed', last_error = @error
      WHERE incident_id = @incidentId AND seq > @seq AND ${UNFINISHED}`),
    counts: db.prepare<[], OutboxCounts>(`
      SELECT
        (SELECT COUNT(*) FROM outbox WHERE state = 'pending') AS pending,
        (SELECT COUNT(*) FROM outbox WHERE state = 'sending') AS sending,
        (SELECT COUNT(*) FROM outbox WHERE state = 'failed') AS failed,
        (SELECT MAX(delivered_at) FROM outbox) AS lastDeliveredAt`),
    prune: db.prepare<[number]>(`DELETE FROM outbox WHERE state IN ('delivered', 'superseded') AND created_at < ?`),
    keysetId: db.prepare<[string], { id: number }>(`SELECT id FROM history_keysets WHERE keys = ?`),
    insertKeyset: db.prepare<[string]>(`INSERT INTO history_keysets (keys) VALUES (?)`),
    insertSample: db.prepare<{ cluster: string; group: string; at: number; afterGap: number; state: string; memberIds: string; totalLag: number | null; keyset: number; offsets: Buffer }>(`
      INSERT OR REPLACE INTO history_samples (cluster, group_name, at, after_gap, state, member_ids, total_lag, keyset, offsets)
      VALUES (@cluster, @group, @at, @afterGap, @state, @memberIds, @totalLag, @keyset, @offsets)`),
    pruneSamples: db.prepare<[string, number]>(`DELETE FROM history_samples WHERE cluster = ? AND at < ?`),
    pruneKeysets: db.prepare<[]>(`DELETE FROM history_keysets WHERE id NOT IN (SELECT DISTINCT keyset FROM history_samples)`),
    samples: db.prepare<[string, number], SampleRow>(`
      SELECT s.group_name, s.at, s.after_gap, s.state, s.member_ids, s.total_lag, s.offsets, k.keys
      FROM history_samples s JOIN history_keysets k ON k.id = s.keyset
      WHERE s.cluster = ? AND s.at >= ? ORDER BY s.group_name, s.at`),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

interface SampleRow {
  group_name: string;
  at: number;
  after_gap: number;
  state: GroupState;
  member_ids: string;
  total_lag: number | null;
  offsets: Buffer;
  keys: string;
}

function stateOf<T>(sql: Statements, key: string): T | null {
  const row = sql.state.get(key);
  return row ? (JSON.parse(row.json) as T) : null;
}

/** Keysets no sample uses any more are dropped about once an hour of 30-second checks. */
const KEYSET_SWEEP_EVERY = 120;

/**
 * Incidents, the outbox and monitor state in one SQLite file. WAL with `synchronous = FULL`:
 * every commit is on disk before it returns, because the outbox's promise ("queued means it
 * will be delivered, once") has to survive kill -9 and power loss, not only clean exits.
 */
export class SqliteIncidentStore implements LagbotStore {
  private readonly sql: Statements;
  /** Keyset ids by the key list object the histories share between samples. */
  private keysets = new WeakMap<readonly string[], number>();
  private appends = 0;
  readonly outboxStamp: string;
  readonly description: string;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock = systemClock,
  ) {
    this.description = `SQLite ${db.name}`;
    this.sql = prepareStatements(db);
    const stamp = stateOf<string>(this.sql, 'outbox-stamp');
    if (typeof stamp !== 'string' || stamp.length === 0) throw new Error('lagbot database has no outbox stamp (migration 5 did not run)');
    this.outboxStamp = stamp;
  }

  // ---- IncidentStore ----

  async openIncidentFor(ref: GroupRef): Promise<Incident | null> {
    const row = this.sql.openIncidentFor.get(ref.cluster, ref.group);
    return row ? incidentOf(row.json) : null;
  }

  /** Every open incident, oldest first. */
  async openIncidents(): Promise<Incident[]> {
    return this.sql.openIncidents.all().map((r) => incidentOf(r.json));
  }

  async incident(id: string): Promise<Incident | null> {
    const row = this.sql.incident.get(id);
    return row ? incidentOf(row.json) : null;
  }

  /** Incidents, newest first (by opening time). */
  async listIncidents(filter: IncidentFilter = {}): Promise<Incident[]> {
    return this.sql.listIncidents
      .all({ cluster: filter.cluster ?? null, group: filter.group ?? null, status: filter.status ?? null, since: filter.since ?? null, limit: filter.limit ?? -1 })
      .map((r) => incidentOf(r.json));
  }

  /** Every incident id, newest first: for suggesting the one someone meant. */
  async incidentIds(): Promise<string[]> {
    return this.sql.incidentIds.all().map((r) => r.id);
  }

  async timeline(incidentId: string): Promise<TimelineEntry[]> {
    return this.sql.timeline.all(incidentId).map((r) => JSON.parse(r.json) as TimelineEntry);
  }

  async commit(change: Commit): Promise<void> {
    const now = this.clock.now();
    const entries = change.timeline ?? [];
    if (entries.length > 0 && !change.incident) throw new Error('timeline entries are committed with their incident');
    this.db.transaction(() => {
      if (change.basedOn) {
        const row = this.sql.incident.get(change.basedOn.id);
        if (!sameIncident(row ? incidentOf(row.json) : null, change.basedOn)) throw new IncidentChangedError(change.basedOn.id);
      }
      if (change.incident) this.saveIncident(change.incident);
      for (const entry of entries) this.saveTimelineEntry(change.incident?.id ?? '', entry);
      for (const effect of change.effects ?? []) this.enqueue(effect, now);
      for (const [key, value] of Object.entries(change.state ?? {})) {
        // JSON has no undefined: an undefined value removes the key.
        if (value === undefined) this.sql.deleteState.run(key);
        else this.sql.upsertState.run(key, JSON.stringify(value));
      }
    })();
  }

  async rootPending(incidentId: string): Promise<boolean> {
    return (this.sql.rootUnfinished.get(incidentId)?.n ?? 0) > 0;
  }

  async rootMessage(incidentId: string): Promise<{ channel: string; ts: string } | null> {
    const row = this.sql.rootOfIncident.get(incidentId) ?? this.sql.rootFromOutbox.get(incidentId);
    return row ? { channel: row.channel, ts: row.ts } : null;
  }

  async state<T>(key: string): Promise<T | null> {
    return stateOf<T>(this.sql, key);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  // ---- OutboxStore ----

  async outboxHeads(limit: number): Promise<OutboxRow[]> {
    return this.sql.heads.all(limit).map(toRow);
  }

  async outboxRow(seq: number): Promise<OutboxRow | null> {
    const row = this.sql.row.get(seq);
    return row ? toRow(row) : null;
  }

  /** Every outbox row, oldest first: for tests and for looking into a stuck queue. */
  async outboxRows(): Promise<OutboxRow[]> {
    return this.sql.rows.all().map(toRow);
  }

  async markSending(seq: number): Promise<boolean> {
    return this.sql.markSending.run({ seq, now: this.clock.now() }).changes === 1;
  }

  async markDelivered(seq: number, ts: string, channel?: string): Promise<void> {
    this.db.transaction(() => {
      const row = this.sql.row.get(seq);
      if (!row || this.sql.markDelivered.run({ seq, ts, now: this.clock.now() }).changes !== 1) return;
      if (row.kind === 'post-root' && row.incident_id !== null) this.sql.setRoot.run(channel ?? row.channel, ts, row.incident_id);
    })();
  }

  async markRetry(seq: number, plan: RetryPlan): Promise<void> {
    this.db.transaction(() => {
      const row = this.sql.row.get(seq);
      if (!row) return;
      // An edit is idempotent, so its outcome never needs finding out: it is simply sent again.
      const state: OutboxState = plan.outcomeUnknown && row.kind !== 'update-root' ? 'sending' : 'pending';
      this.sql.markRetry.run({ seq, state, nextAttemptAt: plan.nextAttemptAt, error: plan.error, answeredAt: plan.answered ? this.clock.now() : null });
      if (row.kind === 'update-root' && row.incident_id !== null) this.sql.supersedeRootUpdates.run({ incidentId: row.incident_id });
    })();
  }

  async markFailed(seq: number, error: string): Promise<void> {
    this.db.transaction(() => {
      const row = this.sql.row.get(seq);
      if (!row || this.sql.markFailed.run({ seq, error }).changes !== 1) return;
      if (row.kind === 'post-root' && row.incident_id !== null) {
        this.sql.failIncidentRest.run({
          incidentId: row.incident_id,
          seq,
          error: `root message (outbox #${seq}) failed: ${error}`,
        });
      }
    })();
  }

  async markFileUploaded(seq: number, fileId: string): Promise<void> {
    this.sql.markFileUploaded.run({ seq, fileId });
  }

  async inDoubt(): Promise<OutboxRow[]> {
    return this.sql.inDoubt.all().map(toRow);
  }

  async setRootTs(incidentId: string, channel: string, ts: string): Promise<void> {
    this.sql.setRoot.run(channel, ts, incidentId);
  }

  async outboxCounts(): Promise<OutboxCounts> {
    const counts = this.sql.counts.get();
    return counts ?? { pending: 0, sending: 0, failed: 0, lastDeliveredAt: null };
  }

  /**
   * Forgets finished rows created before `before`; returns how many. Sequence numbers are never
   * reused (AUTOINCREMENT), so the seq in a message's Slack metadata stays unambiguous.
   */
  async pruneOutbox(before: number): Promise<number> {
    return this.sql.prune.run(before).changes;
  }

  // ---- SilenceStore (async like the PostgreSQL store's; SQLite answers at once) ----

  async addSilence(silence: Silence): Promise<void> {
    if (silence.endedEarly) throw new Error('a silence is added before anyone ends it');
    this.sql.insertSilence.run({ id: silence.id, target: JSON.stringify(silence.target), by: silence.by, reason: silence.reason, createdAt: silence.createdAt, startsAt: silence.startsAt, endsAt: silence.endsAt });
  }

  async silence(id: string): Promise<Silence | null> {
    const row = this.sql.silence.get(id);
    return row ? silenceOf(row) : null;
  }

  async silencesSince(since: number): Promise<Silence[]> {
    return this.sql.silencesSince.all(since).map(silenceOf);
  }

  async endSilenceEarly(id: string, by: string, at: number): Promise<boolean> {
    return this.sql.endSilence.run({ id, by, at }).changes === 1;
  }

  async pruneSilences(before: number): Promise<number> {
    return this.sql.pruneSilences.run(before).changes;
  }

  // ---- HistoryStore ----

  async appendSamples(cluster: string, samples: readonly StoredSample[], before: number): Promise<void> {
    this.db.transaction(() => {
      for (const { group, record } of samples) {
        const offsets = Buffer.from(record.values.buffer, record.values.byteOffset, record.values.byteLength);
        this.sql.insertSample.run({
          cluster,
          group,
          at: record.at,
          afterGap: record.afterGap ? 1 : 0,
          state: record.state,
          memberIds: JSON.stringify(record.memberIds),
          totalLag: record.totalLag,
          keyset: this.keysetOf(record.keys),
          offsets,
        });
      }
      this.sql.pruneSamples.run(cluster, before);
      if ((this.appends += 1) % KEYSET_SWEEP_EVERY === 0) {
        this.sql.pruneKeysets.run();
        this.keysets = new WeakMap();
      }
    })();
  }

  async loadSamples(cluster: string, since: number): Promise<StoredSample[]> {
    const shared = new Map<string, string[]>();
    return this.sql.samples.all(cluster, since).map((row) => {
      let keys = shared.get(row.keys);
      if (!keys) shared.set(row.keys, (keys = JSON.parse(row.keys) as string[]));
      // One copy into a fresh, 8-byte aligned buffer: SQLite's blob may sit at any offset.
      const values = new Float64Array(new Uint8Array(row.offsets).buffer);
      const record: SampleRecord = {
        at: row.at,
        afterGap: row.after_gap === 1,
        state: row.state,
        memberIds: JSON.parse(row.member_ids) as string[],
        totalLag: row.total_lag,
        keys,
        values,
      };
      return { group: row.group_name, record };
    });
  }

  private keysetOf(keys: readonly string[]): number {
    const known = this.keysets.get(keys);
    if (known !== undefined) return known;
    const text = JSON.stringify(keys);
    const id = this.sql.keysetId.get(text)?.id ?? Number(this.sql.insertKeyset.run(text).lastInsertRowid);
    this.keysets.set(keys, id);
    return id;
  }

  private saveIncident(incident: Incident): void {
    this.sql.upsertIncident.run({
      id: incident.id,
      cluster: incident.cluster,
      group: incident.group,
      status: incident.status,
      channel: incident.channel,
      openedAt: incident.openedAt,
      json: JSON.stringify(incident),
    });
  }

  private saveTimelineEntry(incidentId: string, entry: TimelineEntry): void {
    this.sql.insertTimeline.run({ incidentId, at: entry.at, kind: entry.kind, json: JSON.stringify(entry) });
  }

  private enqueue(effect: SlackEffect, now: number): void {
    const incidentId = effect.kind === 'post-channel' ? null : effect.incidentId;
    const message: SlackMessage = effect.kind === 'post-file' ? { text: effect.file.title, blocks: [] } : effect.message;
    const file = effect.kind === 'post-file' ? JSON.stringify(effect.file) : null;
    this.sql.enqueue.run({ incidentId, channel: effect.channel, kind: effect.kind, message: JSON.stringify(message), file, now });
    if (effect.kind === 'update-root') this.sql.supersedeRootUpdates.run({ incidentId: effect.incidentId });
  }
}

/** Opens (creating if needed) the store at `path`; `':memory:'` gives a private in-memory one. */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteIncidentStore {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    // SQLite's own default page cache, 2 MB: better-sqlite3 builds SQLite with 16 MB, which the
    // history's pages fill within the hour (each check writes its samples, about 800 KB at
    // 1,000 groups) though they are only ever read back once, at start. 14 MB of resident
    // memory for nothing.
    db.pragma('cache_size = -2000');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteIncidentStore(db, options.clock);
}
