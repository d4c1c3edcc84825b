// The journal flag and the migration ID argument, shared by `cfctl migrations ...` and `cfctl rollback`.
import { userInfo } from 'node:os'
import { Args, Flags } from '@oclif/core'
import { RealClock } from '../clock.js'
import { Journal } from '../core/journal/journal.js'
import { defaultJournalPath } from '../core/migration/operation.js'

export const journalFlag = Flags.string({ description: 'the journal file (default: $CFCTL_HOME/journal.db)' })

export const migrationIdArg = Args.string({
  description: 'the migration ID (see: cfctl migrations list)',
  required: true,
})

export function openJournal(path: string | undefined): Journal {
  return Journal.open(path ?? defaultJournalPath(), { clock: new RealClock() })
}

/** Who a pause or an abort from this terminal is recorded as. */
export function operator(): string {
  try {
    return `operator:${userInfo().username}`
  } catch {
    return 'operator'
  }
}
