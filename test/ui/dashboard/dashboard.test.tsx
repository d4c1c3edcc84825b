// The whole dashboard through ink-testing-library: the layout on a 100×40 screen, and every key, typed on
// its stdin, with a store on a FakeClock over the fake foundation and, where control is tested, a runner.
process.env.COLUMNS = '100'
process.env.LINES = '40'

import { render } from 'ink-testing-library'
import { afterEach, describe, expect, it } from 'vitest'
import type { MigrationRunner } from '../../../src/core/migration/index.js'
import { Dashboard } from '../../../src/ui/dashboard/dashboard.js'
import { fleetOf } from '../../../src/ui/dashboard/fleet.js'
import type { UiState } from '../../../src/ui/dashboard/interaction.js'
import type { DashboardStore } from '../../../src/ui/dashboard/store.js'
import { ThemeContext } from '../../../src/ui/dashboard/theme.js'
import { advance, settle } from '../../core/migration/fake-foundation.js'
import { aFleetOfRows } from './support.js'
import { aDashboardWorld, type DashboardWorld } from './world.js'

const KEYS = {
  enter: '\r',
  escape: '\u001b',
  backspace: '\u007f',
  tab: '\t',
  up: '\u001b[A',
  down: '\u001b[B',
  pageUp: '\u001b[5~',
  pageDown: '\u001b[6~',
  home: '\u001b[H',
  end: '\u001b[F',
  ctrlF: '\u0006',
  ctrlB: '\u0002',
}

const stores: DashboardStore[] = []
const runs: Array<{ w: DashboardWorld; runner: MigrationRunner; run: Promise<unknown> }> = []
afterEach(async () => {
  for (const store of stores.splice(0)) store.stop()
  for (const { w, runner, run } of runs.splice(0)) {
    if (runner.running) runner.abort()
    await settle(
      w.clock,
      run.catch(() => {}),
    )
  }
})

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function mount(
  w: DashboardWorld,
  options: { readonly?: boolean; runner?: MigrationRunner; initial?: Partial<UiState>; migrationId?: string } = {},
) {
  const { store, control } = w.store({
    control: { runner: options.runner, runnerFor: (id) => w.runner(id) },
    ...(options.migrationId ? { migrationId: options.migrationId } : {}),
  })
  stores.push(store)
  store.start()
  const ui = render(
    <ThemeContext.Provider value={{ color: false }}>
      <Dashboard store={store} readonly={options.readonly ?? false} initial={options.initial} />
    </ThemeContext.Provider>,
  )
  const screen = () => ui.lastFrame() ?? ''
  return {
    ...ui,
    store,
    control,
    screen,
    lines: () => screen().split('\n'),
    /** Types each key and lets ink and React settle (a lone Esc waits out ink's 20 ms for a sequence). */
    async press(...keys: string[]) {
      for (const key of keys) {
        ui.stdin.write(key)
        await wait(key === KEYS.escape ? 40 : 2)
      }
    },
    /** Moves the fake clock so the store polls and publishes. */
    async tick(ms = 300) {
      await advance(w.clock, ms)
      await wait(2)
    },
  }
}

function startRun(w: DashboardWorld, id: string): MigrationRunner {
  const runner = w.runner(id)
  runs.push({ w, runner, run: runner.run() })
  return runner
}

const statusLine = (lines: string[]) => lines.at(-1) ?? ''
const appRows = (lines: string[]) => lines.filter((l) => /^[> ] +app-\d{4,5} /.test(l))
const appNames = (lines: string[]) => appRows(lines).map((l) => l.match(/app-\d+/)![0])

describe('the dashboard on a 100×40 terminal', () => {
  it('fills the screen: header, backends and migration, the app table, events and gaps, the keys', async () => {
    const w = aDashboardWorld(60)
    const id = w.plan({ rate: '60/min', maxInFlight: 2 })
    startRun(w, id)
    const d = mount(w)
    await d.tick(20_000)

    const lines = d.lines()
    expect(lines).toHaveLength(40)
    expect(lines[0]).toMatch(/^cfctl dashboard :overview · https:\/\/api\.example\.test · 60 apps/)
    expect(lines[1]).toMatch(/^── Backends ─+ ── Migration .+ → diego ─+$/)
    expect(lines[2]).toMatch(/^DEA\s+\d+ apps .*running · rate 60\/min · max in flight 2/)
    expect(d.screen()).toMatch(/done \d+ {2}in flight \d+ {2}failed 0 {2}pending \d+/)
    expect(d.screen()).toMatch(/rate \d+\/min of 60\/min [▁▂▃▄▅▆▇█]+ {2}ETA/)
    expect(lines[6]).toMatch(/^── Apps 60 · sort name ↑ ─+$/)
    expect(lines[7]).toMatch(/NAME\s+ORG\/SPACE\s+STATE\s+INST\s+MEM\s+BACKEND\s+STEP/)
    expect(lines[8]).toMatch(/^>\s+app-0000\s+org\/space\s+started\s+1\s+128M diego\s+done$/)
    expect(d.screen()).toMatch(/── Events ─+ ── Gaps: none ─+/)
    expect(d.screen()).toMatch(/\d\d:\d\d:\d\d app-\d{4}: (moving|flipped to diego|verified in)/)
    expect(statusLine(lines)).toMatch(/^p pause {2}r resume {2}a abort {2}b rollback/)
  })

  it('follows a resize: narrower and shorter, the panels stack and the table shrinks', async () => {
    const w = aDashboardWorld(60)
    const d = mount(w)
    await d.tick()
    Object.defineProperty(d.stdout, 'columns', { get: () => 80, configurable: true })
    ;(d.stdout as unknown as { rows: number }).rows = 30
    d.stdout.emit('resize')
    await d.tick()

    const lines = d.lines()
    expect(lines).toHaveLength(30)
    expect(lines.every((l) => l.length <= 80)).toBe(true)
    expect(lines[1]).toMatch(/^── Backends ─+$/)
    expect(lines[6]).toMatch(/^── Migration ─+$/)
    expect(appRows(lines).length).toBe(30 - 2 - 10 - 4 - 3)
  })

  it('draws only the rows that fit with 50,000 apps, and moves through them at once', async () => {
    const w = aDashboardWorld(0)
    const fleet = fleetOf(aFleetOfRows(50_000))
    const { store } = w.store({ source: { poll: async () => ({ fleet, capacity: undefined }) } })
    stores.push(store)
    store.start()
    const ui = render(<Dashboard store={store} readonly={false} initial={{ view: 'apps' }} />)
    await advance(w.clock, 300)
    await wait(5)
    const frame = () => (ui.lastFrame() ?? '').split('\n')

    expect(frame()[1]).toMatch(/^── Apps 50,000 · sort name ↑ ─+$/)
    expect(appRows(frame())).toHaveLength(40 - 2 - 3)
    ui.stdin.write('G')
    await wait(5)
    expect(appRows(frame()).at(-1)).toMatch(/^>\s+app-49999 /)
    ui.stdin.write('/')
    for (const c of 'app-4999') {
      ui.stdin.write(c)
      await wait(1)
    }
    await wait(5)
    expect(frame()[1]).toMatch(/^── Apps 10 of 50,000 · sort name ↑ · filter "app-4999" ─+$/)
    expect(appRows(frame())).toHaveLength(10)
  })
})

describe('the keys, typed', () => {
  it('/ filters the app table as it is typed; Backspace edits; Esc clears', async () => {
    const w = aDashboardWorld(30)
    const d = mount(w)
    await d.tick()
    await d.press('/', 'a', 'p', 'p', '-', '0', '0', '1')
    expect(statusLine(d.lines())).toMatch(/^\/app-001▌/)
    expect(appNames(d.lines())).toEqual(Array.from({ length: 10 }, (_, i) => `app-001${i}`))
    await d.press(KEYS.backspace, KEYS.backspace, '0', '2')
    expect(appNames(d.lines())).toEqual(Array.from({ length: 10 }, (_, i) => `app-002${i}`))
    await d.press(KEYS.enter)
    expect(d.screen()).toContain('filter "app-002"')
    expect(statusLine(d.lines())).toMatch(/^p pause/)
    await d.press('/', KEYS.escape)
    expect(appRows(d.lines()).length).toBeGreaterThan(10)
    expect(d.screen()).not.toContain('filter "')
  })

  it(': jumps to :migrations, :events, :apps and back to :overview', async () => {
    const w = aDashboardWorld(5)
    const id = await w.started()
    const d = mount(w)
    await d.tick()
    await d.press(':', 'm', 'i', 'g', 'r', 'a', 't', 'i', 'o', 'n', 's')
    expect(statusLine(d.lines())).toMatch(/^:migrations▌/)
    await d.press(KEYS.enter)
    expect(d.lines()[1]).toMatch(/^── Migrations 1 · Enter watches/)
    expect(d.screen()).toMatch(new RegExp(`^>\\*\\s+${id}\\s+diego\\s+paused`, 'm'))
    await d.press(':', 'events', KEYS.enter)
    expect(d.lines()[1]).toMatch(/^── Events ─+ ── Gaps: none/)
    expect(d.screen()).toContain('planned: 5 apps to diego')
    await d.press(':', 'apps', KEYS.enter)
    expect(d.lines()[1]).toMatch(/^── Apps 5 /)
    await d.press(KEYS.escape)
    expect(d.lines()[0]).toContain(':overview')
  })

  it(': and / take text that arrives with its Enter in one read (a paste, fast typing)', async () => {
    const w = aDashboardWorld(5)
    await w.started()
    const d = mount(w)
    await d.tick()
    await d.press(':', 'events\r')
    expect(d.lines()[1]).toMatch(/^── Events /)
    await d.press(':', 'apps\r', '/', 'app-0003\r')
    expect(appNames(d.lines())).toEqual(['app-0003'])
    expect(statusLine(d.lines())).not.toMatch(/^\//)
  })

  it('Tab cycles the views', async () => {
    const w = aDashboardWorld(5)
    const d = mount(w)
    await d.tick()
    await d.press(KEYS.tab)
    expect(d.lines()[0]).toContain(':apps')
    await d.press(KEYS.tab, KEYS.tab)
    expect(d.lines()[0]).toContain(':events')
  })

  it('? shows the help over the view, Esc closes it', async () => {
    const w = aDashboardWorld(5)
    const d = mount(w)
    await d.tick()
    await d.press('?')
    expect(d.lines()[1]).toMatch(/^── Help ─+$/)
    expect(d.screen()).toContain('raise / lower the rate limit one step')
    await d.press(KEYS.escape)
    expect(d.lines()[1]).toMatch(/^── Backends/)
  })

  it('j, k, arrows, PgDn, PgUp, Ctrl-F, Ctrl-B, g, G, Home and End move the selection', async () => {
    const w = aDashboardWorld(200)
    const d = mount(w, { initial: { view: 'apps' } })
    await d.tick()
    const selected = () => appNames(d.lines().filter((l) => l.startsWith('>')))[0]
    expect(selected()).toBe('app-0000')
    await d.press('j', 'j', KEYS.down)
    expect(selected()).toBe('app-0003')
    await d.press('k', KEYS.up)
    expect(selected()).toBe('app-0001')
    await d.press(KEYS.pageDown)
    expect(selected()).toBe('app-0036')
    await d.press(KEYS.ctrlF)
    expect(selected()).toBe('app-0071')
    await d.press(KEYS.pageUp, KEYS.ctrlB)
    expect(selected()).toBe('app-0001')
    await d.press('G')
    expect(selected()).toBe('app-0199')
    await d.press('g')
    expect(selected()).toBe('app-0000')
    await d.press(KEYS.end)
    expect(selected()).toBe('app-0199')
    await d.press(KEYS.home)
    expect(selected()).toBe('app-0000')
  })

  it('s sorts by the next column and S reverses', async () => {
    const w = aDashboardWorld(8)
    const d = mount(w, { initial: { view: 'apps' } })
    await d.tick()
    await d.press('s', 's', 's', 's')
    expect(d.lines()[1]).toContain('sort memory ↑')
    expect(appRows(d.lines())[0]).toContain('128M')
    await d.press('S')
    expect(d.lines()[1]).toContain('sort memory ↓')
    expect(appRows(d.lines())[0]).toContain('512M')
  })

  it('Enter in :migrations watches the selected migration', async () => {
    const w = aDashboardWorld(5)
    const older = await w.started()
    await w.clock.advance(1_000)
    const newer = await w.started()
    const d = mount(w)
    await d.tick()
    expect(d.lines()[1]).toContain(`Migration ${newer}`)
    await d.press(':', 'mig', KEYS.enter, 'j', KEYS.enter)
    await d.tick()
    expect(d.lines()[0]).toContain(':overview')
    expect(d.lines()[1]).toContain(`Migration ${older}`)
    expect(statusLine(d.lines())).toBe(`watching ${older}`.padEnd(statusLine(d.lines()).length))
  })

  it('p pauses and r resumes the running migration', async () => {
    const w = aDashboardWorld(20)
    const id = w.plan({ rate: '10/min' })
    const runner = startRun(w, id)
    const d = mount(w, { runner })
    await d.tick(1_000)
    await d.press('p')
    await d.tick()
    expect(d.screen()).toMatch(/paused by dashboard · rate 10\/min/)
    expect(statusLine(d.lines())).toMatch(/^paused/)
    expect(w.journal.requireMigration(id)).toMatchObject({ state: 'paused', pausedBy: 'dashboard' })
    await d.press('r')
    await d.tick()
    expect(d.screen()).toMatch(/running · rate 10\/min/)
    expect(w.journal.requireMigration(id).state).toBe('running')
  })

  it('r cannot start a migration nobody started: a planned record, watched on purpose, stays as it is', async () => {
    const w = aDashboardWorld(20)
    const id = w.plan({ rate: null })
    const d = mount(w, { migrationId: id })
    await d.tick(1_000)
    const before = { migration: w.journal.requireMigration(id), events: w.journal.events(id) }

    await d.press('r')
    await d.tick()
    expect(statusLine(d.lines())).toMatch(new RegExp(`^${id} was never started; r does not start it`))
    await d.tick(30_000)

    expect(d.control.busy).toBeUndefined()
    expect(w.journal.requireMigration(id)).toEqual(before.migration)
    expect(w.journal.events(id)).toEqual(before.events)
    expect(w.world.flips).toEqual([])
  })

  it('+ and - move the rate limit a step', async () => {
    const w = aDashboardWorld(20)
    const id = w.plan({ rate: '10/min' })
    const runner = startRun(w, id)
    const d = mount(w, { runner })
    await d.tick(1_000)
    await d.press('+')
    await d.tick()
    expect(d.screen()).toContain('rate 15/min · max in flight')
    expect(runner.progress().rate).toBe('15/min')
    await d.press('-', '-')
    await d.tick()
    expect(d.screen()).toContain('rate 5/min · max in flight')
    expect(w.journal.requireMigration(id).parameters.rate).toBe('5/min')
  })

  it('a asks, and y aborts', async () => {
    const w = aDashboardWorld(20)
    const id = w.plan({ rate: '10/min' })
    const runner = startRun(w, id)
    const d = mount(w, { runner })
    await d.tick(1_000)
    await d.press('a')
    expect(statusLine(d.lines())).toMatch(new RegExp(`^Abort ${id}\\? .*y/N`))
    expect(runner.running).toBe(true)
    await d.press('y')
    await d.tick(15_000)
    expect(w.journal.requireMigration(id).state).toBe('aborted')
    expect(d.screen()).toMatch(/aborted · rate 10\/min/)
  })

  it('b asks, n cancels, and b then y rolls the moved apps back', async () => {
    const w = aDashboardWorld(10)
    const id = w.plan({ rate: null, maxInFlight: 5 })
    const runner = startRun(w, id)
    const d = mount(w, { runner })
    await d.tick(15_000)
    await d.press('b')
    expect(statusLine(d.lines())).toMatch(new RegExp(`^Roll back ${id}\\?`))
    await d.press('n')
    expect(statusLine(d.lines())).toMatch(/^rollback cancelled/)
    await d.press('b', 'y')
    await d.tick(60_000)
    expect(w.journal.requireMigration(id).state).toBe('rolled-back')
    expect(d.screen()).toMatch(/rolled-back · rate no limit/)
    expect(w.world.fleet().every((app) => !app.diego)).toBe(true)
  })

  it('--readonly: the control keys only say they are off', async () => {
    const w = aDashboardWorld(20)
    const id = w.plan({ rate: '10/min' })
    const runner = startRun(w, id)
    const d = mount(w, { runner, readonly: true })
    await d.tick(1_000)
    expect(d.lines()[0]).toContain('READ-ONLY')
    for (const key of ['p', 'r', '+', '-', 'a', 'b']) {
      await d.press(key)
      expect(statusLine(d.lines())).toMatch(/^read-only: control keys are off/)
    }
    await d.tick()
    expect(w.journal.requireMigration(id)).toMatchObject({ state: 'running', parameters: { rate: '10/min' } })
  })

  it('q asks first while the run of `migrate --ui` goes on in this process, as for a run taken over here', async () => {
    const w = aDashboardWorld(20)
    const id = w.plan({ rate: '10/min' })
    const runner = startRun(w, id)
    const d = mount(w, { runner })
    await d.tick(1_000)
    expect(d.lines()[0]).toContain(`running ${id} here`)

    await d.press('q')

    expect(statusLine(d.lines())).toMatch(new RegExp(`^${id} runs in this dashboard\\. Quit and pause it`))
    await d.press('n')
    expect(statusLine(d.lines())).toMatch(/^quit cancelled/)
    expect(runner.running).toBe(true)
  })

  it('q quits', async () => {
    const w = aDashboardWorld(5)
    const d = mount(w)
    await d.tick()
    await d.press('q')
    const frames = d.frames.length
    await d.press('j', 'j', ':')
    // Unmounted: no key draws another frame.
    expect(d.frames.length).toBe(frames)
  })
})
