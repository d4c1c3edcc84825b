import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Journal } from '../../../src/core/journal/index.js'
import { oldGenerationFor, stepsInWorker, stepsSourceOf } from '../../../src/ui/dashboard/fleet-source.js'
import { compactSteps, readStepStates, stepMapOf } from '../../../src/ui/dashboard/steps.js'
import { advance, settle } from '../../core/migration/fake-foundation.js'
import { aDashboardWorld } from './world.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('the step states of a migration', () => {
  it('read straight from the journal file are those Journal.steps() tells', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfctl-steps-'))
    dirs.push(dir)
    const path = join(dir, 'journal.db')
    const w = aDashboardWorld(0, (clock) => Journal.open(path, { clock }))
    w.world.addFleet(12)
    w.world.add({ name: 'sick', unhealthyOn: 'diego' })
    const id = w.plan({ rate: '60/min', maxInFlight: 3, timeoutMs: 30_000 })
    const run = w.runner(id).run()
    await advance(w.clock, 25_000)

    const direct = readStepStates(path, id)
    expect(direct).toEqual(compactSteps(w.journal.steps(id)))
    const states = new Set([...stepMapOf(direct!).values()].map((s) => s.state))
    expect(states.size).toBeGreaterThan(1)
    await settle(w.clock, run)
    const failed = stepMapOf(readStepStates(path, id)!).get('guid-sick')
    expect(failed).toMatchObject({ state: 'failed', error: expect.stringContaining('not healthy on diego') })
  })

  it('share one status object per state among the steps without an error', () => {
    const map = stepMapOf({ guids: ['a', 'b', 'c'], states: Uint8Array.from([0, 0, 4]), errors: { 2: 'boom' } })
    expect(map.get('a')).toBe(map.get('b'))
    expect(map.get('c')).toEqual({ state: 'failed', error: 'boom' })
  })
})

describe('the reads in a worker thread', () => {
  it('read the step states of a journal file as this thread would', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfctl-steps-'))
    dirs.push(dir)
    const path = join(dir, 'journal.db')
    const w = aDashboardWorld(30, (clock) => Journal.open(path, { clock }))
    const id = w.plan({ rate: null, maxInFlight: 10 })
    await settle(w.clock, w.runner(id).run())

    const inWorker = await stepsInWorker(w.journal)(id)
    expect(inWorker).toEqual(await stepsSourceOf(w.journal)(id))
    expect(inWorker.guids).toHaveLength(30)
  })

  it('size the worker for the rows it reads', () => {
    expect(oldGenerationFor(0)).toBe(40)
    expect(oldGenerationFor(50_000)).toBe(45)
    expect(oldGenerationFor(250_000)).toBe(143)
  })
})
