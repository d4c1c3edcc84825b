// The journal's tables. PRAGMA user_version holds the schema version; UPGRADES[v] takes a journal from
// version v to v + 1, so a journal from an older cfctl is brought forward on open and one from a newer
// cfctl is refused rather than misread.

export const SCHEMA_VERSION = 1

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

/** UPGRADES[v] is the SQL that takes the schema from version v to v + 1. */
export const UPGRADES: readonly string[] = [V1]
