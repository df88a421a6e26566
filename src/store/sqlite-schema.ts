import type { Database } from 'better-sqlite3';

/**
 * Schema migrations, applied in order and counted in SQLite's `user_version`, so a database
 * written by an older lagbot is brought forward on open and a newer one is refused rather
 * than misread. Append new steps; never edit a released one.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE incidents (
    id           TEXT PRIMARY KEY,
    group_name   TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    channel      TEXT NOT NULL,
    opened_at    INTEGER NOT NULL,
    json         TEXT NOT NULL,
    root_channel TEXT,
    root_ts      TEXT
  );
  -- The database, not only the core, guarantees a group never has two live incidents.
  CREATE UNIQUE INDEX incidents_one_open_per_group ON incidents (group_name) WHERE status = 'open';

  CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     TEXT,
    channel         TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('post-root', 'update-root', 'post-thread', 'post-channel')),
    message         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'delivered', 'superseded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    slack_ts        TEXT
  );
  -- Delivery only ever scans unfinished rows; the partial index stays small as history grows.
  CREATE INDEX outbox_unfinished ON outbox (incident_id, seq) WHERE state IN ('pending', 'sending');

  CREATE TABLE monitor_state (
    key  TEXT PRIMARY KEY,
    json TEXT NOT NULL
  );
  `,
  // Group ids are unique per cluster only: incidents carry their cluster, and the
  // one-open-incident rule holds per cluster and group. Rows from before are the
  // single cluster a `kafka:` section configures.
  `
  ALTER TABLE incidents ADD COLUMN cluster TEXT NOT NULL DEFAULT 'default';
  DROP INDEX incidents_one_open_per_group;
  CREATE UNIQUE INDEX incidents_one_open_per_cluster_group ON incidents (cluster, group_name) WHERE status = 'open';
  `,
  // The groups' lag histories, so the rules that look back survive a restart. A partition
  // key list is the same for a group check after check: it is stored once and referenced.
  `
  CREATE TABLE history_keysets (
    id   INTEGER PRIMARY KEY,
    keys TEXT NOT NULL UNIQUE
  );
  CREATE TABLE history_samples (
    cluster    TEXT NOT NULL,
    group_name TEXT NOT NULL,
    at         INTEGER NOT NULL,
    after_gap  INTEGER NOT NULL,
    state      TEXT NOT NULL,
    member_ids TEXT NOT NULL,
    total_lag  REAL,
    keyset     INTEGER NOT NULL REFERENCES history_keysets (id),
    -- committed offsets then log end offsets, float64 little-endian, NaN for unknown
    offsets    BLOB NOT NULL,
    PRIMARY KEY (cluster, group_name, at)
  );
  CREATE INDEX history_samples_by_time ON history_samples (cluster, at);
  `,
  // When an in-doubt row's last call began and whether Slack answered it: a row is looked up
  // only once that call can no longer land, or a post that lands late is posted twice.
  `
  ALTER TABLE outbox ADD COLUMN last_attempt_at INTEGER;
  ALTER TABLE outbox ADD COLUMN last_answer_at INTEGER;
  `,
  // This store's own name, stamped on every message beside the outbox seq. Seqs count from 1
  // in every store, so without it a lookup could take another store's message (a second
  // install in the channel, a store deleted and started afresh) for its own.
  `
  INSERT INTO monitor_state (key, json) VALUES ('outbox-stamp', json_quote(lower(hex(randomblob(16)))));
  `,
  // Files in incident threads (charts, postmortems): a new kind, the file to render as JSON,
  // and the id Slack gave the upload, recorded before the upload is shared so an in-doubt
  // share is looked up by it. SQLite cannot change a CHECK, so the table is rebuilt; its
  // sequence is carried over, as seqs must never be reused (they name messages in Slack).
  `
  CREATE TABLE outbox_next (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     TEXT,
    channel         TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('post-root', 'update-root', 'post-thread', 'post-channel', 'post-file')),
    message         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'delivered', 'superseded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    slack_ts        TEXT,
    last_attempt_at INTEGER,
    last_answer_at  INTEGER,
    file            TEXT,
    slack_file_id   TEXT
  );
  INSERT INTO outbox_next (seq, incident_id, channel, kind, message, state, attempts, next_attempt_at, last_error, created_at, delivered_at, slack_ts, last_attempt_at, last_answer_at)
    SELECT seq, incident_id, channel, kind, message, state, attempts, next_attempt_at, last_error, created_at, delivered_at, slack_ts, last_attempt_at, last_answer_at FROM outbox;
  DELETE FROM sqlite_sequence WHERE name = 'outbox_next';
  INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_next', seq FROM sqlite_sequence WHERE name = 'outbox';
  DROP TABLE outbox;
  ALTER TABLE outbox_next RENAME TO outbox;
  CREATE INDEX outbox_unfinished ON outbox (incident_id, seq) WHERE state IN ('pending', 'sending');
  `,
  // Every timeline entry as data, beside the message it became, so a postmortem can be drafted
  // after the fact. Incidents from before this step have no entries: their timeline lives only
  // in their Slack thread.
  `
  CREATE TABLE incident_timeline (
    seq         INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL,
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    json        TEXT NOT NULL
  );
  CREATE INDEX incident_timeline_by_incident ON incident_timeline (incident_id, seq);
  `,
  // Silences and maintenance windows. `ends_at` is the planned end, `ended_at` an early one;
  // the sooner of the two is when it stops, and nothing runs at either.
  `
  CREATE TABLE silences (
    id         TEXT PRIMARY KEY,
    target     TEXT NOT NULL,
    by_user    TEXT NOT NULL,
    reason     TEXT,
    created_at INTEGER NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    ended_by   TEXT,
    ended_at   INTEGER,
    CHECK (ends_at > starts_at),
    CHECK ((ended_by IS NULL) = (ended_at IS NULL))
  );
  CREATE INDEX silences_by_end ON silences (ends_at);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** `upTo`: tests build a database as an older lagbot left it. */
export function migrate(db: Database, upTo = SCHEMA_VERSION): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`lagbot database has schema version ${current}, newer than this lagbot knows (${SCHEMA_VERSION}); upgrade lagbot`);
  }
  for (let version = current; version < Math.min(upTo, SCHEMA_VERSION); version++) {
    const step = MIGRATIONS[version] ?? '';
    // Each step and its version bump commit together, so a crash mid-migration reruns the step.
    db.transaction(() => {
      db.exec(step);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
