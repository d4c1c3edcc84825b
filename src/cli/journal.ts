// The journal flag and the migration ID argument, shared by `cfctl migrations ...` and `cfctl rollback`.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { Args, Flags } from '@oclif/core'
import { type Clock, RealClock } from '../clock.js'
import { Journal, type JournalOptions } from '../core/journal/journal.js'
import type { MigrationRecord } from '../core/journal/types.js'
import { controlMigration } from '../core/migration/control.js'
import { defaultJournalPath, RUNNER_JOURNAL_COMMIT_DELAY_MS, requireMigration } from '../core/migration/operation.js'

export const journalFlag = Flags.string({
  description:
    'the journal: a file, or a PostgreSQL URL that every machine shares (postgres://user@host:5432/db) ' +
    '(default: $CFCTL_JOURNAL, else $CFCTL_HOME/journal.db)',
})

export const migrationIdArg = Args.string({
  description: 'the migration ID (see: cfctl migrations list)',
  required: true,
})

export function openJournal(path: string | undefined): Journal {
  return Journal.open(path ?? defaultJournalPath(), { clock: new RealClock() })
}

/**
 * Where a command's journal is: --journal, else the default one, except with --embedded: a foundation that
 * lives only as long as this process would fill the default journal with migrations of targets that are
 * gone, so its runs get a journal of their own in a temporary directory, removed when the command ends.
 */
export function journalPathFor(flags: { journal?: string; embedded?: boolean }): { path: string; dispose(): void } {
  if (flags.journal !== undefined || !flags.embedded)
    return { path: flags.journal ?? defaultJournalPath(), dispose() {} }
  const dir = mkdtempSync(join(tmpdir(), 'cfctl-embedded-'))
  return { path: join(dir, 'journal.db'), dispose: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Runs `use` on the command's journal (journalPathFor), closed, and an --embedded one removed, when it settles. */
export async function withJournal<T>(
  flags: { journal?: string; embedded?: boolean },
  use: (journal: Journal) => T | Promise<T>,
  options: JournalOptions = {},
): Promise<T> {
  const where = journalPathFor(flags)
  const journal = Journal.open(where.path, options)
  try {
    return await use(journal)
  } finally {
    journal.close()
    where.dispose()
  }
}

/** withJournal for a command whose runner writes the journal (migrate, rollback): commits grouped per turn. */
export function withRunnerJournal<T>(
  flags: { journal?: string; embedded?: boolean },
  clock: Clock,
  use: (journal: Journal) => Promise<T>,
): Promise<T> {
  return withJournal(flags, use, { clock, commitDelayMs: RUNNER_JOURNAL_COMMIT_DELAY_MS })
}

/** Who a pause or an abort from this terminal is recorded as. */
export function operator(): string {
  try {
    return `operator:${userInfo().username}`
  } catch {
    return 'operator'
  }
}

export interface Delivered {
  id: string
  delivered: string
  state: string
}

/**
 * `cfctl migrations pause|resume|abort ID`: the command goes through the journal, to the cfctl running the
 * migration when one does, else into the journal directly; `log` (unless --json) says which.
 */
export function commandMigration(
  journalPath: string | undefined,
  id: string,
  type: 'pause' | 'resume' | 'abort',
  log: ((line: string) => void) | undefined,
): Delivered {
  const journal = openJournal(journalPath)
  try {
    const migration = requireMigration(journal, id)
    const result = controlMigration(journal, migration.id, { type, by: operator() })
    const state = journal.requireMigration(migration.id).state
    log?.(
      result.delivered === 'runner'
        ? `${type} sent to the cfctl running ${migration.id} (pid ${result.lock.pid} on ${result.lock.hostname})`
        : `migration ${migration.id} is now ${state}`,
    )
    return { id: migration.id, delivered: result.delivered, state }
  } finally {
    journal.close()
  }
}

/** A migration that says it runs (or rolls back) while no cfctl does: it was cut short (kill -9, a crash). */
export function interrupted(journal: Journal, migration: MigrationRecord): boolean {
  return (migration.state === 'running' || migration.state === 'rolling-back') && !journal.liveRunnerOf(migration.id)
}
