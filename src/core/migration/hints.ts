// What an operator does next after a run ends short of done: always the command that finishes the
// migration first, and rollback as the other way, never rollback alone.
import { FOREIGN_FLIPS } from './foreign.js'
import { CC_UNREACHABLE, type MigrationOutcome, NO_ANSWER_ERROR, PROBE_PATH_DOWN } from './outcome.js'

/** The next command(s) for a run that did not end completed or rolled back; undefined when it did. */
export function nextStepsHint(
  outcome: Pick<MigrationOutcome, 'migrationId' | 'state' | 'pausedBy' | 'failures' | 'to'>,
): string | undefined {
  const id = outcome.migrationId
  const rollback = `roll back with: cfctl rollback ${id}`
  switch (outcome.state) {
    case 'completed':
    case 'rolled-back':
      return undefined
    case 'rolling-back':
      return `finish the rollback with: cfctl rollback ${id}`
    case 'aborted':
      return `move the apps left with: cfctl migrate --to ${outcome.to} (same selection)   ${rollback}`
    default:
      break
  }
  if (outcome.state === 'paused' && outcome.pausedBy === CC_UNREACHABLE) {
    return `the CC did not answer; once it does, finish with: cfctl migrate --resume ${id}   ${rollback}`
  }
  if (outcome.state === 'paused' && outcome.pausedBy === FOREIGN_FLIPS) {
    return `diego was changed outside this migration (see cfctl audit); if another cfctl works on this target, let one finish, then: cfctl migrate --resume ${id}   ${rollback} (it leaves the others' apps alone)`
  }
  if (outcome.state === 'paused' && outcome.pausedBy === PROBE_PATH_DOWN) {
    return `route probes fail for running apps, moving or not; once the router answers, finish with: cfctl migrate --resume ${id}   ${rollback}`
  }
  const retriable = outcome.failures.filter((f) => NO_ANSWER_ERROR.test(f.error))
  const stuck = outcome.failures.length - retriable.length
  if (outcome.state === 'paused' || retriable.length > 0) {
    const after = stuck > 0 ? ` (${stuck} failed app${stuck === 1 ? '' : 's'} stay where they are)` : ''
    return `finish with: cfctl migrate --resume ${id}${after}   ${rollback}`
  }
  if (stuck > 0) {
    const names = outcome.failures.slice(0, 5).map((f) => `--app ${f.appName}`)
    const apps = outcome.failures.length <= 5 ? names.join(' ') : '(same selection)'
    return `once the failed apps are fixed, move them with: cfctl migrate --to ${outcome.to} ${apps}   ${rollback}`
  }
  return `finish with: cfctl migrate --resume ${id}   ${rollback}`
}
