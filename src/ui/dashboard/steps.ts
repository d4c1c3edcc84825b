// Where each app stands in the watched migration, kept small: 50,000 steps become three parallel arrays to
// pass between threads, and a map whose values are shared for every step without an error.
import { DatabaseSync } from 'node:sqlite'
import { SCHEMA_VERSION } from '../../core/journal/schema.js'
import { isPostgresUrl } from '../../core/journal/store.js'
import { STEP_STATES, type StepRecord, type StepState } from '../../core/journal/types.js'
import type { StepStatus } from './model.js'

/** A migration's steps as the worker hands them over: app guids, state indexes, and the errors there are. */
export interface CompactSteps {
  guids: string[]
  /** Indexes into STEP_STATES. */
  states: Uint8Array
  /** Position in `guids` to error, for the steps that have one. */
  errors: Record<number, string>
}

export function compactSteps(steps: readonly StepRecord[]): CompactSteps {
  const guids = new Array<string>(steps.length)
  const states = new Uint8Array(steps.length)
  const errors: Record<number, string> = {}
  steps.forEach((step, i) => {
    guids[i] = step.appGuid
    states[i] = STEP_STATES.indexOf(step.state)
    if (step.error !== null) errors[i] = step.error
  })
  return { guids, states, errors }
}

/**
 * The three columns the dashboard needs of a migration's steps, streamed from the journal file read-only:
 * Journal.steps() makes two full records of 25 fields per step, some 150 MB for 50,000 steps, where this
 * holds a few. Undefined when the file's schema is not the one this cfctl knows (then Journal.steps() it is).
 */
export function readStepStates(journalPath: string, migrationId: string): CompactSteps | undefined {
  if (isPostgresUrl(journalPath)) return undefined
  const db = new DatabaseSync(journalPath, { readOnly: true })
  try {
    const version = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version)
    if (version !== SCHEMA_VERSION) return undefined
    const rows = db
      .prepare('SELECT app_guid, state, error FROM steps WHERE migration_id = ? ORDER BY position')
      .iterate(migrationId) as Iterable<{ app_guid: string; state: StepState; error: string | null }>
    const guids: string[] = []
    const states: number[] = []
    const errors: Record<number, string> = {}
    for (const row of rows) {
      if (row.error !== null) errors[guids.length] = row.error
      guids.push(row.app_guid)
      states.push(STEP_STATES.indexOf(row.state))
    }
    return { guids, states: Uint8Array.from(states), errors }
  } finally {
    db.close()
  }
}

/** One frozen status per state without an error, shared by every step in it. */
const PLAIN = Object.fromEntries(STEP_STATES.map((state) => [state, Object.freeze({ state, error: null })])) as Record<
  StepState,
  StepStatus
>

export function plainStatus(state: StepState): StepStatus {
  return PLAIN[state]
}

export function stepMapOf(compact: CompactSteps): Map<string, StepStatus> {
  const map = new Map<string, StepStatus>()
  const { guids, states, errors } = compact
  for (let i = 0; i < guids.length; i++) {
    const state = STEP_STATES[states[i]!]!
    const error = errors[i]
    map.set(guids[i]!, error === undefined ? PLAIN[state] : { state, error })
  }
  return map
}
