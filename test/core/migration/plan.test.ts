import { describe, expect, it } from 'vitest'
import { estimateBasis } from '../../../src/cli/migration-output.js'
import { UsageError } from '../../../src/core/errors.js'
import {
  checkCapacity,
  expectedDuration,
  type FleetApp,
  globToRegExp,
  parseAppList,
  parseRate,
  planMigration,
  selectApps,
} from '../../../src/core/migration/index.js'

function anApp(name: string, overrides: Partial<FleetApp> = {}): FleetApp {
  return {
    guid: `guid-${name}`,
    name,
    org: 'acme',
    space: 'prod',
    state: 'STARTED',
    instances: 1,
    memoryMb: 256,
    diego: false,
    ...overrides,
  }
}

const FLEET: FleetApp[] = [
  anApp('web', { instances: 3, memoryMb: 512 }),
  anApp('worker', { state: 'STOPPED', instances: 2 }),
  anApp('api', { instances: 2, memoryMb: 1024 }),
  anApp('web-canary', { space: 'staging' }),
  anApp('billing', { org: 'finance', memoryMb: 128 }),
  anApp('search', { diego: true }),
]

const names = (apps: readonly { name?: string; appName?: string }[]) => apps.map((a) => a.name ?? a.appName)

describe('selectApps', () => {
  it('takes the apps on the source backend, started and stopped', () => {
    expect(names(selectApps(FLEET, { to: 'diego' }).apps)).toEqual(['web', 'worker', 'api', 'web-canary', 'billing'])
    expect(names(selectApps(FLEET, { to: 'dea' }).apps)).toEqual(['search'])
  })

  it('narrows by org and space', () => {
    expect(names(selectApps(FLEET, { to: 'diego', org: 'acme', space: 'prod' }).apps)).toEqual(['web', 'worker', 'api'])
    expect(names(selectApps(FLEET, { to: 'diego', org: 'finance' }).apps)).toEqual(['billing'])
  })

  it('narrows by a name glob and leaves out excluded globs and guids', () => {
    expect(names(selectApps(FLEET, { to: 'diego', appPattern: 'web*' }).apps)).toEqual(['web', 'web-canary'])
    const selection = selectApps(FLEET, { to: 'diego', exclude: ['*-canary', 'guid-api'] })
    expect(names(selection.apps)).toEqual(['web', 'worker', 'billing'])
    expect(selection.excluded).toBe(2)
  })

  it('takes listed names and guids, and says which are missing or already on the target', () => {
    const selection = selectApps(FLEET, {
      to: 'diego',
      apps: ['api', 'nope'],
      fromFile: ['guid-billing', 'search', 'api'],
    })
    expect(names(selection.apps)).toEqual(['api', 'billing'])
    expect(selection.listed).toEqual(['api', 'nope', 'guid-billing', 'search'])
    expect(selection.missing).toEqual(['nope'])
    expect(selection.onTarget).toEqual(['search'])
  })
})

describe('parseAppList and globs', () => {
  it('reads one name or guid a line, skipping blanks and comments', () => {
    expect(parseAppList('web\n\n  # the api next\napi  # inline\r\nguid-1\n')).toEqual(['web', 'api', 'guid-1'])
  })

  it('matches shell-style globs on the whole name', () => {
    expect(globToRegExp('web-?').test('web-1')).toBe(true)
    expect(globToRegExp('web-?').test('web-12')).toBe(false)
    expect(globToRegExp('[a-c]*').test('billing')).toBe(true)
    expect(globToRegExp('[!a-c]*').test('billing')).toBe(false)
    expect(globToRegExp('a.b').test('axb')).toBe(false)
    expect(globToRegExp('*web*').test('my-web-app')).toBe(true)
  })
})

describe('planMigration', () => {
  it('orders by name by default and marks the canary', () => {
    const plan = planMigration(FLEET, { to: 'diego', canary: 2 })
    expect(names(plan.steps)).toEqual(['api', 'billing', 'web', 'web-canary', 'worker'])
    expect(plan.steps.map((s) => s.canary)).toEqual([true, true, false, false, false])
    expect(plan.steps[0]).toMatchObject({ originalDiego: false, targetDiego: true, appGuid: 'guid-api' })
    expect(plan).toMatchObject({ to: 'diego', from: 'dea', canary: 2 })
  })

  it('orders by memory footprint, smallest first, stopped apps counting as none', () => {
    expect(names(planMigration(FLEET, { to: 'diego', order: 'memory' }).steps)).toEqual([
      'worker',
      'billing',
      'web-canary',
      'web',
      'api',
    ])
  })

  it('orders by instances, fewest first', () => {
    expect(names(planMigration(FLEET, { to: 'diego', order: 'instances' }).steps)).toEqual([
      'billing',
      'web-canary',
      'api',
      'worker',
      'web',
    ])
  })

  it('orders as listed, then the rest by name', () => {
    const plan = planMigration(FLEET, {
      to: 'diego',
      order: 'listed',
      apps: ['worker', 'guid-web'],
      fromFile: ['api'],
    })
    expect(names(plan.steps)).toEqual(['worker', 'web', 'api'])
  })

  it('refuses the listed order with nothing listed', () => {
    expect(() => planMigration(FLEET, { to: 'diego', order: 'listed' })).toThrow(
      new UsageError('--order listed needs apps listed with --app or --from-file'),
    )
  })

  it('names the option that is wrong', () => {
    expect(() => planMigration(FLEET, { to: 'diego', canary: -1 })).toThrow(/--canary/)
    expect(() => planMigration(FLEET, { to: 'moon' as 'diego' })).toThrow('--to must be diego or dea')
    expect(() => planMigration(FLEET, { to: 'diego', order: 'size' as 'name' })).toThrow(
      '--order must be one of name, memory, instances, listed',
    )
  })

  it('totals what moves and warns about what it could not take', () => {
    const plan = planMigration(FLEET, { to: 'diego', apps: ['web', 'worker', 'ghost', 'search'] })
    expect(plan.totals).toEqual({ apps: 2, started: 1, stopped: 1, instances: 3, memoryMb: 1536 })
    expect(plan.warnings).toEqual([
      'not found in the org and space selected: ghost',
      'already on diego, left out: search',
    ])
  })

  it('expects 500 apps at 10/min to take 50 minutes', () => {
    const fleet = Array.from({ length: 500 }, (_, i) => anApp(`app-${i}`))
    const plan = planMigration(fleet, { to: 'diego', rate: parseRate('10/min'), maxInFlight: 5 })
    expect(plan.expectedDurationMs).toBe(50 * 60_000)
  })

  it('says what the estimate rests on: the rate, measured steps, or a guess', () => {
    const fleet = Array.from({ length: 50 }, (_, i) => anApp(`app-${i}`))
    const byRate = planMigration(fleet, { to: 'diego', rate: parseRate('10/min'), maxInFlight: 5 })
    const guessed = planMigration(fleet, { to: 'diego', rate: parseRate('600/min'), maxInFlight: 10 })
    const measured = planMigration(fleet, {
      to: 'diego',
      rate: parseRate('600/min'),
      maxInFlight: 5,
      stepEstimateMs: 1_000,
      stepSamples: 40,
    })

    expect(byRate.estimate).toEqual({ boundBy: 'rate', stepMs: 30_000, samples: 0 })
    expect(estimateBasis(byRate)).toBe('set by the rate')
    expect(estimateBasis(guessed)).toBe('a guess: 30 s a step, as none has run on this target yet')
    expect(estimateBasis(measured)).toBe('1 s a step, the median of 40 measured on this target')
    // 50 apps at 600/min, 5 at a time, 1 s each: seconds, not the minutes the guess gives.
    expect(measured.expectedDurationMs).toBe(10_000)
    expect(guessed.expectedDurationMs).toBe(150_000)
  })

  it('expects the in-flight limit to bound a fast rate', () => {
    expect(
      expectedDuration(
        { apps: 100, started: 100 },
        { rate: parseRate('100/sec'), maxInFlight: 10, stepEstimateMs: 30_000 },
      ),
    ).toBe(10 * 30_000)
    expect(expectedDuration({ apps: 100, started: 0 }, { rate: null, maxInFlight: 10 })).toBe(0)
  })
})

describe('checkCapacity', () => {
  const plan = planMigration(FLEET, { to: 'diego', org: 'acme', space: 'prod' })

  it('says the target can hold the selection, and how much of its room it takes', () => {
    const check = checkCapacity(plan, {
      target: { memoryMb: { total: 16_384, used: 8_192 }, containers: { total: 100, used: 10 } },
      source: { memoryMb: { total: 8_192, used: 6_000 } },
      maxInFlight: 1,
    })
    expect(check.ok).toBe(true)
    expect(check.target.message).toBe(
      'diego can hold the selection: it takes 3584 MB, 44% of the 8192 MB free, 5 of 90 free containers',
    )
    expect(check.wayBack.message).toBe(
      'the way back exists: dea has 2192 MB free, room to restart the 1 app in flight (up to 2048 MB)',
    )
  })

  it('refuses a target that is short of memory or containers, and says by how much', () => {
    const check = checkCapacity(plan, {
      target: { memoryMb: { total: 4_096, used: 2_048 }, containers: { total: 10, used: 8 } },
      maxInFlight: 2,
    })
    expect(check.ok).toBe(false)
    expect(check.target.message).toBe(
      'diego cannot hold the selection: needs 3584 MB of memory, 2048 MB free (short by 1536 MB); needs 5 containers, 2 free (short by 3)',
    )
  })

  it('finds no way back when the source could not restart the apps in flight', () => {
    const check = checkCapacity(plan, { source: { memoryMb: { total: 8_192, used: 7_000 } }, maxInFlight: 2 })
    expect(check.ok).toBe(false)
    expect(check.wayBack.message).toBe(
      'no way back: dea has 1192 MB free, and restarting the 2 apps in flight there takes up to 3584 MB',
    )
  })

  it('takes a backend with no container total (the DEAs) as having no container limit, as cfctl backends does', () => {
    const check = checkCapacity(plan, {
      target: { memoryMb: { total: 1_000_000, used: 0 }, containers: { total: null, used: 5_000 } },
    })
    expect(check.target).toMatchObject({ ok: true })
    expect(check.target.message).not.toMatch(/containers/)
  })

  it('says when a backend does not show its capacity, without failing the check', () => {
    const check = checkCapacity(plan, {})
    expect(check.ok).toBe(true)
    expect(check.messages).toEqual([
      'diego does not show its capacity; not checked (3584 MB moves)',
      'dea does not show its capacity; the way back is not checked',
    ])
  })
})

describe('names without case, as the CC matches them', () => {
  it('selects by org, space, --app and pattern whatever the case', () => {
    expect(names(selectApps(FLEET, { to: 'diego', org: 'ACME', space: 'Prod' }).apps)).toEqual(['web', 'worker', 'api'])
    expect(names(selectApps(FLEET, { to: 'diego', apps: ['WEB'] }).apps)).toEqual(['web'])
    expect(selectApps(FLEET, { to: 'diego', apps: ['WEB'] }).missing).toEqual([])
    expect(names(selectApps(FLEET, { to: 'diego', appPattern: 'Web*' }).apps)).toEqual(['web', 'web-canary'])
  })
})
