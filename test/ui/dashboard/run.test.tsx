// runDashboard as commands call it: a plain-text snapshot when stdout is not a terminal, the live
// dashboard on one (here a stand-in TTY), and `cfctl dashboard` end to end on an embedded foundation.
import { Console } from 'node:console'
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { CcClient } from '../../../src/core/cc/index.js'
import { type DashboardOptions, runDashboard } from '../../../src/ui/dashboard/index.js'
import { aCliHome } from '../../cli/run-cli.js'
import { advance, settle } from '../../core/migration/fake-foundation.js'
import { FakeKeyboard } from './fake-keyboard.js'
import { aDashboardWorld, type DashboardWorld, TARGET } from './world.js'

/** A terminal's output as ink sees one: a TTY with a size, and every write kept. */
class FakeTerminal extends EventEmitter {
  readonly isTTY: boolean
  columns = 100
  rows = 30
  output = ''
  constructor(isTTY: boolean) {
    super()
    this.isTTY = isTTY
  }
  write(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
    this.output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined
    done?.()
    return true
  }
}
// ink patches the console through console.Console, which vitest's console does not carry.
;(console as { Console?: typeof Console }).Console ??= Console

const unusedClient = () => new CcClient({ apiUrl: 'http://127.0.0.1:9' })
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits (for real: ink loads and draws on its own timers) until the condition holds. */
async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const start = Date.now()
  while (!condition()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`)
    await wait(10)
  }
}

/** runDashboard over a world's journal, clock and apps, drawing on `out`. */
function dashboardOf(w: DashboardWorld, out: FakeTerminal, options: Partial<DashboardOptions> = {}): Promise<void> {
  return runDashboard({
    client: unusedClient(),
    journal: w.journal,
    target: TARGET,
    clock: w.clock,
    source: w.source,
    stdout: out as unknown as NodeJS.WriteStream,
    env: {},
    ...options,
  })
}

/** The dashboard of a world on a (stand-in) terminal, with a keyboard to type on. */
function onTerminal(w: DashboardWorld, options: Partial<DashboardOptions> = {}) {
  const out = new FakeTerminal(true)
  const keys = new FakeKeyboard()
  const done = dashboardOf(w, out, { stdin: keys as unknown as NodeJS.ReadStream, ...options })
  return { out, keys, done }
}

describe('runDashboard', () => {
  it('prints one plain-text snapshot when stdout is not a terminal', async () => {
    const w = aDashboardWorld(6, undefined)
    w.world.add({ name: 'sick', unhealthyOn: 'diego' })
    const id = w.plan({ rate: null, maxInFlight: 7 })
    const run = w.runner(id).run()
    await advance(w.clock, 200_000)
    await settle(w.clock, run)
    const out = new FakeTerminal(false)

    await dashboardOf(w, out)

    const text = out.output
    expect(text).not.toContain('\u001b[')
    expect(text).toMatch(/^cfctl dashboard · https:\/\/api\.example\.test · 7 apps read at \d\d:\d\d:\d\d\n/)
    expect(text).toMatch(/backend\s+apps\s+started\s+instances\s+nodes up\s+memory used\nDEA\s+1\s+1\s+1\s+-/)
    expect(text).toContain(`${id} → diego: failed · rate no limit · max in flight 7`)
    expect(text).toMatch(/done 6 · in flight 0 · failed 1 · pending 0/)
    expect(text).toMatch(
      /app\s+org\/space\s+backend\s+step\s+error\nsick\s+org\/space\s+dea\s+failed\s+not healthy on diego/,
    )
    expect(text).toMatch(/Migrations in the journal\nid\s+to\s+state\s+done\/total\s+failed\s+paused by\s+target\n/)
  })

  it('draws on a terminal, on the alternate screen, until q', async () => {
    const w = aDashboardWorld(5)
    const { out, keys, done } = onTerminal(w, { env: { NO_COLOR: '1' } })
    let finished = false
    void done.then(() => (finished = true))
    await advance(w.clock, 300)
    await until(() => out.output.includes('5 apps'))
    expect(out.output).toContain('\u001b[?1049h')
    expect(out.output).toContain('cfctl dashboard :overview · https://api.example.test · 5 apps')
    expect(finished).toBe(false)

    keys.type('q')
    await done
    expect(out.output).toContain('\u001b[?1049l')
  })

  it('with a rollback of its own running, asks before quitting and leaves it paused, resumable', async () => {
    const w = aDashboardWorld(10)
    const id = w.plan({ rate: null, maxInFlight: 5 })
    await settle(w.clock, w.runner(id).run())
    w.journal.updateParameters(id, { rate: '6/min' })
    const { out, keys, done } = onTerminal(w, { runnerFor: (migrationId) => w.runner(migrationId) })
    await advance(w.clock, 300)
    await until(() => out.output.includes('10 apps'))
    keys.type('b')
    await until(() => out.output.includes(`Roll back ${id}?`))
    keys.type('y')
    await until(() => w.journal.requireMigration(id).state === 'rolling-back')
    await advance(w.clock, 1_000)

    keys.type('q')
    await until(() => out.output.includes(`A rollback of ${id} runs here. Quit and pause it`))
    keys.type('y')
    await settle(w.clock, done)
    expect(w.journal.requireMigration(id)).toMatchObject({ state: 'rolling-back', pausedBy: 'dashboard' })
    expect(w.journal.liveLockOf(id)).toBeUndefined()
  })
})

describe('cfctl dashboard', () => {
  it('--embedded, piped: a snapshot of the embedded foundation, exit 0', async () => {
    const home = aCliHome()
    const result = await home.run(['dashboard', '--embedded'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^cfctl dashboard · http:\/\/127\.0\.0\.1:\d+ · 50 apps read at/)
    expect(result.stdout).toMatch(/\nDEA\s+50\s+\d+\s+\d+\s+6\/6\s+[█░]{10} \d+%/)
    expect(result.stdout).toMatch(/\nDiego\s+0\s+0\s+0\s+6\/6/)
    expect(result.stdout).toContain('no migration for this target in the journal')
  }, 60_000)
})
