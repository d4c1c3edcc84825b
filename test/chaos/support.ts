// The chaos suite's checks and figures. Every scenario ends by asking the CC (and, where the foundation runs
// in this process, its backends) whether the fleet is sound: each app on exactly one backend, the one its
// flag names, with its instances running there and none left on the other; no app's flag changed more than
// once in each direction; and the journal's steps agree with the flags the CC holds.
import { expect } from 'vitest'
import { type CliHome, FLEET_ORG, type Json, type WatchedFoundation } from '../migration/support.js'

/** The seed a scenario runs with: CFCTL_CHAOS_SEED repeats a run, otherwise one from the clock. */
export function chaosSeed(): number {
  const given = process.env.CFCTL_CHAOS_SEED
  return given !== undefined && given !== '' ? Number(given) : Date.now() % 1_000_000
}

/** What a scenario did, printed at its end as one line to paste into a note. */
export interface Figures {
  scenario: string
  seed: number
  runs: number
  kills: number
  faults: number
  apps: number
  /** How many apps changed flag 0, 1, 2 ... times on the CC. */
  flipsPerApp: Record<string, number>
  [more: string]: unknown
}

export function printFigures(figures: Figures): void {
  console.log(`chaos figures ${JSON.stringify(figures)}`)
}

/** The histogram of flag changes per app: {"1": 80} is every app flipped once. */
export function flipHistogram(changes: readonly (readonly boolean[])[]): Record<string, number> {
  const histogram: Record<string, number> = {}
  for (const c of changes) histogram[String(c.length)] = (histogram[String(c.length)] ?? 0) + 1
  return histogram
}

/**
 * A flag's changes are sound when each direction happened at most once and they alternate from the
 * original: [] , [to], or [to, back].
 */
export function flagChangesProblem(original: boolean, changes: readonly boolean[]): string | undefined {
  const ups = changes.filter((d) => d).length
  const downs = changes.length - ups
  if (ups > 1 || downs > 1) return `flag changed ${JSON.stringify(changes)} (more than once in a direction)`
  if (changes.length > 0 && changes[0] === original) return `first change ${changes[0]} from ${original}`
  if (changes.length === 2 && changes[1] !== original) return `changes ${JSON.stringify(changes)}`
  return undefined
}

/** Polls until `check` returns no problems, or fails with the last ones seen. */
export async function eventually(check: () => string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let problems = check()
  while (problems.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    problems = check()
  }
  expect(problems.slice(0, 20)).toEqual([])
}

/**
 * The in-process foundation's own account: every fleet app on exactly one backend (its flag's), all its
 * instances RUNNING there when STARTED, none on the other; and its flag history sound.
 */
export async function expectFleetSound(world: WatchedFoundation, org = FLEET_ORG): Promise<void> {
  const history: string[] = []
  for (const app of world.appsOf(org)) {
    const problem = flagChangesProblem(world.original.get(app.guid)!, world.historyOf(app.guid).diegoChanges)
    if (problem) history.push(`${app.name}: ${problem}`)
  }
  expect(history).toEqual([])
  await eventually(() => {
    const problems: string[] = []
    for (const listed of world.appsOf(org)) {
      const app = world.foundation.store.app(listed.guid)!
      const [own, other] = app.diego
        ? [world.foundation.diego, world.foundation.dea]
        : [world.foundation.dea, world.foundation.diego]
      const stray = other.instances(app.guid).filter((i) => i.state !== 'CRASHED')
      if (stray.length > 0) problems.push(`${app.name}: ${stray.length} instances on its other backend`)
      if (app.state === 'STARTED' && world.runningInstances(app) !== app.instances)
        problems.push(`${app.name}: ${world.runningInstances(app)}/${app.instances} running on its backend`)
      if (app.state === 'STOPPED' && own.instances(app.guid).some((i) => i.state === 'RUNNING'))
        problems.push(`${app.name}: stopped, with instances running`)
    }
    return problems
  })
}

/** The journal of `home` for one migration, as `cfctl migrations show --json` gives it. */
export async function journalOf(home: CliHome, id: string): Promise<Json> {
  const shown = await home.run(['migrations', 'show', id, '--events', '100000', '--json'])
  expect(shown.code, shown.stderr).toBe(0)
  return JSON.parse(shown.stdout)
}

/**
 * The journal agrees with the CC's flags: a done step's app on its target, a pending, rolled-back or failed
 * one on its original backend; none in flight once the migration has settled.
 */
export function expectJournalMatchesCc(journal: Json, flagOf: (guid: string) => boolean): void {
  const mismatches: string[] = []
  for (const step of journal.steps as Json[]) {
    const cc = flagOf(step.guid) ? 'diego' : 'dea'
    const expected =
      step.state === 'done'
        ? step.to
        : ['pending', 'rolled-back', 'failed', 'skipped'].includes(step.state)
          ? step.from
          : `settled (is ${step.state})`
    if (cc !== expected) mismatches.push(`${step.app} ${step.state} ${step.from}→${step.to}: CC has ${cc}`)
  }
  expect(mismatches).toEqual([])
}
