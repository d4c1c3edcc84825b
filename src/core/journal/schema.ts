// The journal's tables, for each store. The schema version is PRAGMA user_version in SQLite and the one row
// of cfctl_journal_schema in PostgreSQL; UPGRADES[v] takes a journal from version v to v + 1, so a journal
// from an older cfctl is brought forward on open and one from a newer cfctl is refused rather than misread.
// Both stores have the same tables and columns at each version; only the DDL's dialect differs.

export const SCHEMA_VERSION = 2

const STEP_STATE_CHECK = `('pending', 'flipping', 'verifying', 'done', 'failed', 'rolling-back', 'rolled-back')`
const MIGRATION_STATE_CHECK = `('planned', 'running', 'paused', 'completed', 'failed', 'aborted', 'rolling-back', 'rolled-back')`

const V1 = `
CREATE TABLE migrations (
  id TEXT PRIMARY KEY,
  target TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('dea', 'diego')),
  parameters TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ${MIGRATION_STATE_CHECK}),
  paused_by TEXT,
  error TEXT,
  canary_confirmed_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
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
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  flipping_at INTEGER,
  verifying_at INTEGER,
  done_at INTEGER,
  failed_at INTEGER,
  rolling_back_at INTEGER,
  rolled_back_at INTEGER,
  PRIMARY KEY (migration_id, position),
  UNIQUE (migration_id, app_guid)
);
CREATE INDEX steps_by_state ON steps (migration_id, state);

CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  migration_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  app_guid TEXT,
  data TEXT NOT NULL
);
CREATE INDEX events_by_migration ON events (migration_id, seq);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the events table is append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the events table is append-only'); END;

CREATE TABLE locks (
  target TEXT PRIMARY KEY,
  migration_id TEXT NOT NULL,
  token TEXT NOT NULL,
  pid INTEGER NOT NULL,
  hostname TEXT NOT NULL,
  acquired_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
);

CREATE TABLE controls (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  migration_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  command TEXT NOT NULL,
  taken_at INTEGER
);
CREATE INDEX controls_waiting ON controls (migration_id, taken_at);
`

// Version 2: leases with fencing. A target's lease row is kept once released (released_at), so that its
// epoch only grows: each acquisition takes epoch + 1, and every write of a runner checks that the lease
// still has its epoch, in the same transaction, so a runner that was taken over cannot record anything more.
const V2 = `
ALTER TABLE locks ADD COLUMN epoch INTEGER NOT NULL DEFAULT 1;
ALTER TABLE locks ADD COLUMN released_at INTEGER;
`
const PG_V2 = `
ALTER TABLE locks ADD COLUMN epoch INTEGER NOT NULL DEFAULT 1;
ALTER TABLE locks ADD COLUMN released_at BIGINT;
`

const PG_V1 = `
CREATE TABLE cfctl_journal_schema (version INTEGER NOT NULL);
INSERT INTO cfctl_journal_schema (version) VALUES (0);

CREATE TABLE migrations (
  id TEXT PRIMARY KEY,
  target TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('dea', 'diego')),
  parameters TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ${MIGRATION_STATE_CHECK}),
  paused_by TEXT,
  error TEXT,
  canary_confirmed_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
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
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  flipping_at BIGINT,
  verifying_at BIGINT,
  done_at BIGINT,
  failed_at BIGINT,
  rolling_back_at BIGINT,
  rolled_back_at BIGINT,
  PRIMARY KEY (migration_id, position),
  UNIQUE (migration_id, app_guid)
);
CREATE INDEX steps_by_state ON steps (migration_id, state);

CREATE TABLE events (
  seq BIGSERIAL PRIMARY KEY,
  migration_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  type TEXT NOT NULL,
  app_guid TEXT,
  data TEXT NOT NULL
);
CREATE INDEX events_by_migration ON events (migration_id, seq);
CREATE FUNCTION cfctl_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the events table is append-only'; END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION cfctl_events_append_only();

CREATE TABLE locks (
  target TEXT PRIMARY KEY,
  migration_id TEXT NOT NULL,
  token TEXT NOT NULL,
  pid INTEGER NOT NULL,
  hostname TEXT NOT NULL,
  acquired_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL
);

CREATE TABLE controls (
  seq BIGSERIAL PRIMARY KEY,
  migration_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  command TEXT NOT NULL,
  taken_at BIGINT
);
CREATE INDEX controls_waiting ON controls (migration_id, taken_at);
`

/** SQLITE_UPGRADES[v] is the SQL that takes a SQLite journal from version v to v + 1. */
export const SQLITE_UPGRADES: readonly string[] = [V1, V2]

/** The same for a PostgreSQL journal. */
export const PG_UPGRADES: readonly string[] = [PG_V1, PG_V2]
