import type { PoolClient } from 'pg';

/**
 * PostgreSQL's schema migrations, numbered like SQLite's and recorded one row per applied
 * version in `lagbot_schema`. The first step is the schema SQLite reached in its seven steps
 * (PostgreSQL had no earlier lagbot to carry forward); append new steps, never edit a
 * released one. Tables and their meaning are SQLite's: see sqlite-schema.ts for the why of
 * each column.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE incidents (
    id           TEXT PRIMARY KEY,
    cluster      TEXT NOT NULL,
    group_name   TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    channel      TEXT NOT NULL,
    opened_at    BIGINT NOT NULL,
    json         TEXT NOT NULL,
    root_channel TEXT,
    root_ts      TEXT
  );
  CREATE UNIQUE INDEX incidents_one_open_per_cluster_group ON incidents (cluster, group_name) WHERE status = 'open';

  -- An identity is never reused, like SQLite's AUTOINCREMENT: seqs name messages in Slack.
  CREATE TABLE outbox (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id     TEXT,
    channel         TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('post-root', 'update-root', 'post-thread', 'post-channel', 'post-file')),
    message         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'delivered', 'superseded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    slack_ts        TEXT,
    last_attempt_at BIGINT,
    last_answer_at  BIGINT,
    file            TEXT,
    slack_file_id   TEXT
  );
  CREATE INDEX outbox_unfinished ON outbox (incident_id, seq) WHERE state IN ('pending', 'sending');

  CREATE TABLE monitor_state (
    key  TEXT PRIMARY KEY,
    json TEXT NOT NULL
  );
  INSERT INTO monitor_state (key, json) VALUES ('outbox-stamp', to_json(replace(gen_random_uuid()::text, '-', ''))::text);

  -- A key list can be far longer than a B-tree entry may be: it is unique by its hash.
  CREATE TABLE history_keysets (
    id   INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    keys TEXT NOT NULL
  );
  CREATE UNIQUE INDEX history_keysets_by_keys ON history_keysets (md5(keys));
  CREATE TABLE history_samples (
    cluster    TEXT NOT NULL,
    group_name TEXT NOT NULL,
    at         BIGINT NOT NULL,
    after_gap  BOOLEAN NOT NULL,
    state      TEXT NOT NULL,
    member_ids TEXT NOT NULL,
    total_lag  DOUBLE PRECISION,
    keyset     INTEGER NOT NULL REFERENCES history_keysets (id),
    offsets    BYTEA NOT NULL,
    PRIMARY KEY (cluster, group_name, at)
  );
  CREATE INDEX history_samples_by_time ON history_samples (cluster, at);

  CREATE TABLE incident_timeline (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id TEXT NOT NULL,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    json        TEXT NOT NULL
  );
  CREATE INDEX incident_timeline_by_incident ON incident_timeline (incident_id, seq);
  `,
  // Leadership among replicas: the leader holds a session advisory lock, and each new leader
  // bumps the epoch. A check's commit and each Slack call check the epoch they were made
  // under, so a leader that lost its lock without noticing yet is refused, not heard twice.
  `
  CREATE TABLE lagbot_leader (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    epoch  BIGINT NOT NULL,
    holder TEXT,
    since  BIGINT
  );
  INSERT INTO lagbot_leader (id, epoch) VALUES (1, 0);
  `,
  // Silences and maintenance windows (SQLite's step 8): `ends_at` is the planned end,
  // `ended_at` an early one; the sooner of the two is when it stops.
  `
  CREATE TABLE silences (
    id         TEXT PRIMARY KEY,
    target     TEXT NOT NULL,
    by_user    TEXT NOT NULL,
    reason     TEXT,
    created_at BIGINT NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    ended_by   TEXT,
    ended_at   BIGINT,
    CHECK (ends_at > starts_at),
    CHECK ((ended_by IS NULL) = (ended_at IS NULL))
  );
  CREATE INDEX silences_by_end ON silences (ends_at);
  `,
];

export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * lagbot's advisory locks: one class id, then what is locked. Advisory locks are per
 * database, like the tables they guard.
 */
/** NOTIFY channel of a commit that queued outbox rows: the leader delivers a click a standby recorded at once, not at its next poll. */
export const OUTBOX_CHANNEL = 'lagbot_outbox';

export const LOCK_CLASS = 0x6c616762; // "lagb"
export const Locks = {
  /** Held while migrating, so replicas starting at once migrate one after the other. */
  migrate: 1,
  /** Held by the leader's own connection for as long as it leads. */
  leader: 2,
  /** Held by each commit that queues rows, so seqs are taken in commit order (see commit). */
  append: 3,
} as const;

/**
 * Brings the database to this lagbot's schema. Two replicas starting at once take turns on
 * the migrate lock: the second finds the steps applied and does nothing. Each step and its
 * version row commit together, so a crash mid-step reruns it. `upTo`: tests build a
 * database as an older lagbot left it.
 */
export async function migratePostgres(client: PoolClient, upTo = POSTGRES_SCHEMA_VERSION): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, Locks.migrate]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS lagbot_schema (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number | null }>('SELECT MAX(version) AS version FROM lagbot_schema');
    const current = rows[0]?.version ?? 0;
    if (current > POSTGRES_SCHEMA_VERSION) {
      throw new Error(`lagbot database has schema version ${current}, newer than this lagbot knows (${POSTGRES_SCHEMA_VERSION}); upgrade lagbot`);
    }
    for (let version = current; version < Math.min(upTo, POSTGRES_SCHEMA_VERSION); version++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[version] ?? '');
        await client.query('INSERT INTO lagbot_schema (version) VALUES ($1)', [version + 1]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, Locks.migrate]).catch(() => undefined);
  }
}
