// Apps that are not staged (package_state PENDING or FAILED): a real foundation always holds some, and
// nothing of them runs on either backend until they stage, so a move cannot be verified by instances.
// The operator decides what a migration does with them:
//   skip (the default): leave the flag alone and list the app. A careful operator moves only what cfctl can
//     prove runs on the target; the app's owner restages it and it can move later (or `--unstaged move`).
//   move: set the flag, verified by the flag alone, so the app stages and runs on the target when it starts.
// Either way such an app never fails a step, and the summary and the JSON events name each one and why.
import type { Unstaged } from '../cc/staging.js'

export const UNSTAGED_POLICIES = ['skip', 'move'] as const
export type UnstagedPolicy = (typeof UNSTAGED_POLICIES)[number]
export const DEFAULT_UNSTAGED_POLICY: UnstagedPolicy = 'skip'

/** An unstaged app as the plan and the summary list it. */
export interface UnstagedApp {
  appGuid: string
  appName: string
  state: Unstaged['state']
  errorCode: string
  reason: string
  /** skip: left on its backend; move: its flag set, verified by the flag alone. */
  action: UnstagedPolicy
}

const SKIPPED = 'not staged, skipped'
const MOVED = 'not staged, moved by its flag alone'

/** The step's note that records what became of an unstaged app (the journal keeps notes, not types). */
export function unstagedNote(action: UnstagedPolicy, unstaged: Unstaged): string {
  return `${action === 'skip' ? SKIPPED : MOVED} [${unstaged.state} ${unstaged.errorCode}]: ${unstaged.reason}`
}

/** The note read back, or undefined for any other note. */
export function unstagedOfNote(
  note: string | null,
): Pick<UnstagedApp, 'state' | 'errorCode' | 'reason' | 'action'> | undefined {
  if (note === null) return undefined
  const match = /^(not staged, skipped|not staged, moved by its flag alone) \[(FAILED|PENDING) (\S+)\]: (.*)$/s.exec(
    note,
  )
  if (!match) return undefined
  return {
    action: match[1] === SKIPPED ? 'skip' : 'move',
    state: match[2] as Unstaged['state'],
    errorCode: match[3]!,
    reason: match[4]!,
  }
}

/** What the plan says will happen to `count` unstaged apps. */
export function unstagedAction(action: UnstagedPolicy, count = 1): string {
  const one = count === 1
  return action === 'skip'
    ? `left where ${one ? 'it is' : 'they are'} (pass --unstaged move to set ${one ? 'its flag' : 'their flags'} anyway)`
    : `${one ? 'its flag is' : 'their flags are'} set, verified by the flag alone: ${one ? 'it stages and runs' : 'they stage and run'} on the target when next started`
}
