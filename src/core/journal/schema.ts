// The journal's tables, for each store. The schema version is PRAGMA user_version in SQLite and the one row
// of cfctl_journal_schema in PostgreSQL; UPGRADES[v] takes a journal from version v to v + 1, so a journal
// from an older cfctl is brought forward on open and one from a newer cfctl is refused rather than misread.
// Both stores have the same tables and columns at each version, from one definition; only its dialect differs.

export const SCHEMA_VERSION = 2

const STEP_STATE_CHECK = `('pending', 'flipping', 'verifying', 'done', 'failed', 'rolling-back', 'rolled-back')`
const MIGRATION_STATE_CHECK = `('planned', 'running', 'paused', 'completed', 'failed', 'aborted', 'rolling-back', 'rolled-back')`

/** What differs between the two stores' DDL: the types of timestamps and sequences, and the append-only rule. */
interface Dialect {
  /** Milliseconds since the epoch: SQLite's INTEGER is 64-bit, PostgreSQL's is not. */
  time: string
  /** A column numbered by the database as rows are inserted. */
  serial: string
  /** Before the tables: where a store without PRAGMA user_version keeps its schema version. */
  preamble: string
  /** Triggers that refuse UPDATE and DELETE on events. */
  eventsAppendOnly: string
}

const SQLITE: Dialect = {
  time: 'INTEGER',
  serial: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  preamble: '',
  eventsAppendOnly: `CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the events table is append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the events table is append-only'); END;`,
}

const POSTGRES: Dialect = {
  time: 'BIGINT',
  serial: 'BIGSERIAL PRIMARY KEY',
  preamble: `
CREATE TABLE cfctl_journal_schema (version INTEGER NOT NULL);
INSERT INTO cfctl_journal_schema (version) VALUES (0);
`,
  eventsAppendOnly: `CREATE FUNCTION cfctl_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the events table is append-only'; END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION cfctl_events_append_only();`,
}

const v1 = (d: Dialect) => `${d.preamble}
CREATE TABLE migrations (
  id TEXT PRIMARY KEY,
  target TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('dea', 'diego')),
  parameters TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ${MIGRATION_STATE_CHECK}),
  paused_by TEXT,
  error TEXT,
  canary_confirmed_at ${d.time},
  created_at ${d.time} NOT NULL,
  updated_at ${d.time} NOT NULL
);
CREATE INDEX migrations_by_target ON migrations (target, state);

CREATE TABLE steps (
  migration_id TEXT NOT NULL REFERENCES migrations (id),
  position INTEGER NOT NULL,
  app_guid TEXT NOT NULL,
  app_name TEXT NOT NULL,
  org TEXT NOT NULL,
  space TEXT NOT NULL,
  app_state TEXT NOT NULL CHECK (app_state IN ('STARTED', 'STOPPED')),
  instances INTEGER NOT NULL,
  memory_mb INTEGER NOT NULL,
  canary INTEGER NOT NULL,
  original_diego INTEGER NOT NULL,
  target_diego INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ${STEP_STATE_CHECK}),
  flipped INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  note TEXT,
  created_at ${d.time} NOT NULL,
  updated_at ${d.time} NOT NULL,
  flipping_at ${d.time},
  verifying_at ${d.time},
  done_at ${d.time},
  failed_at ${d.time},
  rolling_back_at ${d.time},
  rolled_back_at ${d.time},
  PRIMARY KEY (migration_id, position),
  UNIQUE (migration_id, app_guid)
);
CREATE INDEX steps_by_state ON steps (migration_id, state);

CREATE TABLE events (
  seq ${d.serial},
  migration_id TEXT NOT NULL,
  at ${d.time} NOT NULL,
  type TEXT NOT NULL,
  app_guid TEXT,
  data TEXT NOT NULL
);
CREATE INDEX events_by_migration ON events (migration_id, seq);
${d.eventsAppendOnly}

CREATE TABLE locks (
  target TEXT PRIMARY KEY,
  migration_id TEXT NOT NULL,
  token TEXT NOT NULL,
  pid INTEGER NOT NULL,
  hostname TEXT NOT NULL,
  acquired_at ${d.time} NOT NULL,
  heartbeat_at ${d.time} NOT NULL
);

CREATE TABLE controls (
  seq ${d.serial},
  migration_id TEXT NOT NULL,
  at ${d.time} NOT NULL,
  command TEXT NOT NULL,
  taken_at ${d.time}
);
CREATE INDEX controls_waiting ON controls (migration_id, taken_at);
`

// Version 2: leases with fencing. A target's lease row is kept once released (released_at), so that its
// epoch only grows: each acquisition takes epoch + 1, and every write of a runner checks that the lease
// still has its epoch, in the same transaction, so a runner that was taken over cannot record anything more.
const v2 = (d: Dialect) => `
ALTER TABLE locks ADD COLUMN epoch INTEGER NOT NULL DEFAULT 1;
ALTER TABLE locks ADD COLUMN released_at ${d.time};
`

/** SQLITE_UPGRADES[v] is the SQL that takes a SQLite journal from version v to v + 1. */
export const SQLITE_UPGRADES: readonly string[] = [v1(SQLITE), v2(SQLITE)]

/** The same for a PostgreSQL journal. */
export const PG_UPGRADES: readonly string[] = [v1(POSTGRES), v2(POSTGRES)]
