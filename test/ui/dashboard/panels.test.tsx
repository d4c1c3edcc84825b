import { render } from 'ink-testing-library'
import { describe, expect, it } from 'vitest'
import { STEP_STATES, type StepState } from '../../../src/core/journal/types.js'
import { initialUi } from '../../../src/ui/dashboard/interaction.js'
import {
  backendsOf,
  type FleetEntry,
  type GapsView,
  type LogLine,
  type MigrationView,
  type StepStatus,
} from '../../../src/ui/dashboard/model.js'
import { paceOf } from '../../../src/ui/dashboard/pace.js'
import { AppTable, type AppTableProps } from '../../../src/ui/dashboard/panels/app-table.js'
import { BackendsPanel } from '../../../src/ui/dashboard/panels/backends.js'
import { Header, StatusBar } from '../../../src/ui/dashboard/panels/chrome.js'
import { EventLog } from '../../../src/ui/dashboard/panels/event-log.js'
import { FleetPanel } from '../../../src/ui/dashboard/panels/fleet.js'
import { GapsPanel } from '../../../src/ui/dashboard/panels/gaps.js'
import { HelpPanel } from '../../../src/ui/dashboard/panels/help.js'
import { MigrationPanel } from '../../../src/ui/dashboard/panels/migration.js'
import { tableView } from '../../../src/ui/dashboard/table.js'
import { aFleet, aFleetOfRows, anAppRow } from './support.js'

const NOW = Date.UTC(2026, 0, 1, 12)
const lines = (frame: string | undefined) => (frame ?? '').split('\n')

function counts(overrides: Partial<Record<StepState, number>>): Record<StepState, number> {
  return { ...(Object.fromEntries(STEP_STATES.map((s) => [s, 0])) as Record<StepState, number>), ...overrides }
}

function aMigrationView(overrides: Partial<MigrationView> = {}): MigrationView {
  const c = overrides.counts ?? counts({ done: 250, flipping: 2, verifying: 3, failed: 5, pending: 240 })
  const starts = Array.from({ length: 9 }, (_, i) => NOW - 55_000 + i * 6_000)
  return {
    id: '20260101-120000-ab12',
    target: 'https://api.example.test',
    to: 'diego',
    state: 'running',
    pausedBy: null,
    error: null,
    rate: '10/min',
    maxInFlight: 5,
    total: 500,
    counts: c,
    inFlight: 5,
    pace: paceOf(starts, NOW, { rate: '10/min', maxInFlight: 5 }, { steps: 245, started: 245 }),
    failures: [],
    catchingUp: false,
    ...overrides,
  }
}

describe('the backends panel', () => {
  it('shows apps, instances, nodes up and memory used per backend', () => {
    const rows = [
      anAppRow({ name: 'a', instances: 3, memoryMb: 512 }),
      anAppRow({ name: 'b', backend: 'diego', instances: 2 }),
      anAppRow({ name: 'c', state: 'STOPPED' }),
    ]
    // The DEAs report no container total: they have no container limit.
    const usage = (nodes: number, up: number, used: number, containers: number | null) => ({
      nodes,
      nodesUp: up,
      memoryMb: { total: 100 * 1024, used: used * 1024 },
      diskMb: { total: 1, used: 0 },
      containers: { total: containers, used: 7 },
    })
    const backends = backendsOf(aFleet(rows), { dea: usage(6, 5, 95, null), diego: usage(9, 9, 40, 500) })
    const frame = lines(render(<BackendsPanel backends={backends} width={90} />).lastFrame())
    expect(frame).toHaveLength(5)
    expect(frame[0]).toMatch(/^── Backends ─+$/)
    expect(frame[1]).toMatch(/^DEA\s+2 apps\s+3 inst\s+DEAs 5\/6 up/)
    expect(frame[2]).toMatch(/mem █+░+\s+95% 95G\/100G\s+cont 7$/)
    expect(frame[3]).toMatch(/^Diego\s+1 apps\s+2 inst\s+cells 9\/9 up/)
    expect(frame[4]).toMatch(/40% 40G\/100G\s+cont 7\/500$/)
  })

  it('says so when the target reports no capacity (a real CC)', () => {
    const backends = backendsOf(aFleet([anAppRow({ name: 'a' })]), undefined)
    const frame = render(<BackendsPanel backends={backends} width={80} />).lastFrame()
    expect(frame).toContain('capacity not reported by this target')
  })

  it('shows the error of the first poll until there are numbers', () => {
    const frame = render(<BackendsPanel backends={undefined} width={80} error="connect ECONNREFUSED" />).lastFrame()
    expect(frame).toContain('apps: connect ECONNREFUSED')
  })
})

describe('the migration panel', () => {
  it('shows progress, the counts, the pace against the limit with a sparkline, and the ETA', () => {
    const frame = lines(render(<MigrationPanel migration={aMigrationView()} width={80} />).lastFrame())
    expect(frame).toHaveLength(5)
    expect(frame[0]).toMatch(/^── Migration 20260101-120000-ab12 → diego ─+$/)
    expect(frame[1]).toMatch(/^running · rate 10\/min · max in flight 5/)
    expect(frame[2]).toMatch(/^█+░+\s+51%\s+255\/500$/)
    expect(frame[3]).toBe('done 250  in flight 5  failed 5  pending 240')
    expect(frame[4]).toMatch(/^rate 9\/min of 10\/min [▁▂▃▄▅▆▇█]+ {2}ETA 27m$/)
  })

  it('says who paused it, and that the ETA waits', () => {
    const frame = render(
      <MigrationPanel migration={aMigrationView({ state: 'paused', pausedBy: 'operator:ann' })} width={80} />,
    ).lastFrame()
    expect(frame).toContain('paused by operator:ann')
    expect(frame).toContain('ETA paused')
  })

  it('without a migration, says there is none and where to find others', () => {
    const frame = lines(render(<MigrationPanel migration={undefined} width={60} />).lastFrame())
    expect(frame).toHaveLength(5)
    expect(frame[1]).toContain('no migration for this target in the journal')
    expect(frame[2]).toContain(':migrations')
  })
})

describe('the app table', () => {
  const rows = aFleet([
    anAppRow({ name: 'auth-api', org: 'acme', space: 'prod' }),
    anAppRow({ name: 'cart-worker', org: 'acme', space: 'dev', memoryMb: 1024 }),
    anAppRow({ name: 'checkout-web', org: 'globex', space: 'prod', backend: 'diego' }),
  ])
  const steps = new Map<string, StepStatus>([
    ['guid-cart-worker', { state: 'failed', error: 'not healthy on diego within 3 min: 0 of 2 running' }],
    ['guid-auth-api', { state: 'verifying', error: null, diego: true }],
  ])
  const sort = { key: 'name' as const, descending: false }
  /** The table of `rows` (filtered and sorted as its props say) unless told otherwise, 100 wide and 8 high. */
  const table = (props: Partial<AppTableProps> = {}) => {
    const filter = props.filter ?? ''
    const view = tableView(rows, steps, filter, props.sort ?? sort)
    return render(
      <AppTable
        fleet={rows}
        view={view}
        steps={steps}
        scroll={{ cursor: 0, offset: 0 }}
        height={8}
        width={100}
        sort={sort}
        filter={filter}
        loading={false}
        {...props}
      />,
    ).lastFrame()
  }

  it('draws a heading, the columns, one line per app with its step, and marks the selected row', () => {
    const frame = lines(table())
    expect(frame).toHaveLength(8)
    expect(frame[0]).toMatch(/^── Apps 3 · sort name ↑ ─+$/)
    expect(frame[1]).toMatch(/^\s+NAME\s+ORG\/SPACE\s+STATE\s+INST\s+MEM\s+BACKEND\s+STEP$/)
    expect(frame[2]).toMatch(/^>\s+auth-api\s+acme\/prod\s+started\s+2\s+512M diego\s+verifying$/)
    expect(frame[3]).toMatch(/^\s+cart-worker\s+acme\/dev\s+started\s+2\s+1G dea\s+failed$/)
    expect(frame[4]).toMatch(/^\s+checkout-web\s+globex\/prod\s+started\s+2\s+512M diego$/)
  })

  it("tells the selected failing app's error on its last line", () => {
    const frame = lines(table({ scroll: { cursor: 1, offset: 0 } }))
    expect(frame[7]).toContain('cart-worker: not healthy on diego within 3 min')
  })

  it('names the filter and the count of matches', () => {
    const frame = table({ height: 6, sort: { key: 'memory', descending: true }, filter: 'acme' })
    expect(frame).toContain('Apps 2 of 3 · sort memory ↓ · filter "acme"')
  })

  it('draws only the rows that fit, from the scroll offset', () => {
    const big = aFleet(aFleetOfRows(50_000))
    const view = tableView(big, new Map(), '', sort)
    const frame = lines(
      table({ fleet: big, view, steps: new Map(), scroll: { cursor: 25_002, offset: 25_000 }, height: 13 }),
    )
    const appLines = frame.filter((l) => /app-\d{5}/.test(l))
    expect(appLines).toHaveLength(10)
    expect(appLines[0]).toContain('app-25000')
    expect(appLines[2]).toMatch(/^>\s+app-25002/)
  })

  it('says when it is still reading, or when nothing matches', () => {
    const empty = (loading: boolean) =>
      table({ fleet: aFleet([]), view: [], steps: new Map(), height: 6, width: 60, loading })
    expect(empty(true)).toContain('reading apps…')
    expect(empty(false)).toContain('no app matches')
    expect(lines(empty(false))).toHaveLength(6)
  })
})

describe('the event log', () => {
  const log: LogLine[] = [
    { seq: 3, at: NOW, text: 'cart-worker: failed: not healthy', tone: 'bad' },
    { seq: 2, at: NOW - 1_000, text: 'auth-api: verified in 12s', tone: 'good' },
    { seq: 1, at: NOW - 2_000, text: 'run started', tone: 'info' },
  ]

  it('shows the lines it is given, the newest first, in the height it has', () => {
    const frame = lines(render(<EventLog lines={log} height={3} width={60} />).lastFrame())
    expect(frame).toHaveLength(3)
    expect(frame[0]).toMatch(/^── Events ─+$/)
    expect(frame[1]).toMatch(/\d\d:\d\d:\d\d cart-worker: failed: not healthy/)
    expect(frame[2]).toContain('auth-api: verified in 12s')
  })

  it('scrolls and marks the selected line', () => {
    const frame = lines(
      render(<EventLog lines={log} height={3} width={60} scroll={{ cursor: 2, offset: 1 }} />).lastFrame(),
    )
    expect(frame[1]).toContain('auth-api')
    expect(frame[2]).toMatch(/^>.*run started/)
  })

  it('says when there is nothing yet', () => {
    expect(render(<EventLog lines={[]} height={4} width={40} />).lastFrame()).toContain('no events yet')
  })
})

describe('the gaps panel', () => {
  it('counts the gaps, names the longest, and lists the newest first', () => {
    const gaps: GapsView = {
      count: 2,
      longestMs: 4_200,
      list: [
        { appName: 'cart-worker', ms: 1_500, open: true, at: NOW },
        { appName: 'auth-api', ms: 4_200, open: false, at: NOW - 9_000 },
      ],
    }
    const frame = lines(render(<GapsPanel gaps={gaps} height={4} width={40} />).lastFrame())
    expect(frame[0]).toMatch(/^── Gaps 2 · longest 4\.2s ─+$/)
    expect(frame[1]).toMatch(/^cart-worker\s+1\.5s open$/)
    expect(frame[2]).toMatch(/^auth-api\s+4\.2s$/)
    expect(frame).toHaveLength(4)
  })

  it('says every app stayed routable when there were none', () => {
    const frame = render(<GapsPanel gaps={{ count: 0, longestMs: 0, list: [] }} height={3} width={40} />).lastFrame()
    expect(frame).toContain('Gaps: none')
    expect(frame).toContain('every moved app stayed routable')
  })
})

describe('the fleet view', () => {
  const fleet: FleetEntry[] = [
    {
      id: '20260101-120000-ab12',
      target: 'https://api.example.test',
      to: 'diego',
      state: 'paused',
      pausedBy: 'operator:ann',
      total: 500,
      done: 250,
      failed: 5,
      inFlight: 0,
      pending: 245,
      updatedAt: NOW - 30_000,
    },
    {
      id: '20251231-090000-cd34',
      target: 'https://api.other.test',
      to: 'dea',
      state: 'rolled-back',
      pausedBy: null,
      total: 10,
      done: 0,
      failed: 0,
      inFlight: 0,
      pending: 0,
      updatedAt: NOW - 86_400_000,
    },
  ]

  it('lists every migration: state and who paused it, progress, failures, when it last changed; the watched one starred', () => {
    const frame = lines(
      render(
        <FleetPanel
          fleet={fleet}
          watchedId="20260101-120000-ab12"
          scroll={{ cursor: 1, offset: 0 }}
          height={6}
          width={100}
          now={NOW}
          filter=""
        />,
      ).lastFrame(),
    )
    expect(frame).toHaveLength(6)
    expect(frame[0]).toContain('Migrations 2')
    expect(frame[1]).toMatch(/ID\s+TO\s+STATE\s+PROGRESS\s+DONE\/TOTAL\s+FAILED\s+UPDATED/)
    expect(frame[2]).toMatch(
      /^\*\s+20260101-120000-ab12\s+diego\s+paused by operator:ann\s+█+░+ 51%\s+250\/500\s+5\s+\d\d:\d\d:\d\d/,
    )
    expect(frame[3]).toMatch(/^>\s+20251231-090000-cd34\s+dea\s+rolled-back\s+░+ 0%\s+0\/10\s+0\s+2025-12-31/)
    expect(frame[4]).toBe('')
  })
})

describe('the help', () => {
  it('lists every key', () => {
    const frame = render(<HelpPanel readonly={false} height={20} width={120} />).lastFrame()!
    for (const keys of [':apps', '/', 'j k', 's  S', 'Enter', 'p  r', 'a', 'b', '+  -', '?', 'q  :q']) {
      expect(frame).toContain(keys)
    }
    expect(lines(frame)).toHaveLength(20)
  })

  it('says when the control keys are off', () => {
    expect(render(<HelpPanel readonly height={20} width={120} />).lastFrame()).toContain('READ-ONLY')
  })
})

describe('the header and the status bar', () => {
  it('name the target, the apps and how fresh they are, the view, and read-only', () => {
    const frame = render(
      <Header
        target="https://api.example.test"
        view="apps"
        apps={50_000}
        loadedAt={NOW - 3_000}
        readonly
        busy={undefined}
        width={100}
      />,
    ).lastFrame()
    expect(frame).toMatch(/^cfctl dashboard :apps · https:\/\/api\.example\.test · 50,000 apps, read \d\d:/)
    expect(frame).toContain('READ-ONLY · ?:help q:quit')
  })

  it('show the prompt of the mode, the question, the message, or the keys', () => {
    const bar = (props: Partial<Parameters<typeof StatusBar>[0]>) =>
      render(
        <StatusBar mode={{ kind: 'normal' }} filter="" message={undefined} readonly={false} width={120} {...props} />,
      ).lastFrame()
    expect(bar({ mode: { kind: 'filter' }, filter: 'acme' })).toMatch(/^\/acme▌/)
    expect(bar({ mode: { kind: 'command', draft: 'mig' } })).toMatch(/^:mig▌/)
    expect(bar({ mode: { kind: 'confirm', action: 'abort', migrationId: 'm-1' } })).toMatch(/^Abort m-1\?.*y\/N/)
    expect(bar({ mode: { kind: 'confirm', action: 'rollback', migrationId: 'm-1' } })).toMatch(/^Roll back m-1\?/)
    expect(bar({ message: { text: 'paused', tone: 'good' } })).toMatch(/^paused/)
    expect(bar({})).toMatch(/^p pause {2}r resume {2}a abort {2}b rollback/)
    expect(bar({ readonly: true })).toMatch(/^READ-ONLY {2}\/ filter/)
    expect(initialUi().mode.kind).toBe('normal')
  })
})
