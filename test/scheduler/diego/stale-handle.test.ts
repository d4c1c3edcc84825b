// A handle on an ActualLRP that is gone reads as nothing, whatever record its slot holds now.
import { describe, expect, it } from 'vitest'
import { aBbs, aDesiredLrp, restartPolicy, runningOn } from './builders.js'

describe('a handle on a removed ActualLRP', () => {
  it('reads none of the record that took its slot: not its since, state or presence', () => {
    const bbs = aBbs()
    const web = aDesiredLrp('web')
    runningOn(bbs, web, 'cell-1', 10)
    const gone = bbs.actual(web.processGuid, 0)!
    const before = { state: gone.state, presence: gone.presence, since: gone.since }
    bbs.retire(gone)
    const api = aDesiredLrp('api')
    bbs.desireLrp(api)
    const next = bbs.createUnclaimed(api.processGuid, 0, 99)
    expect(next.slot).toBe(gone.slot) // the slot is taken again
    expect(gone.exists).toBe(false)
    // It may keep what it last was, or read as nothing; it must not read the new record.
    expect(gone.since).not.toBe(next.since)
    expect({ state: gone.state, presence: gone.presence }).not.toEqual({ state: next.state, presence: next.presence })
    expect(before.state).toBe('RUNNING')
  })

  it('is refused by crash as a removed record, not described as the copy that took its slot', () => {
    const bbs = aBbs()
    const web = aDesiredLrp('web', { instances: 2 })
    runningOn(bbs, web, 'cell-1', 10)
    const gone = bbs.actual(web.processGuid, 1)!
    bbs.retire(gone)
    const copy = bbs.evacuate(bbs.actual(web.processGuid, 0)!, 20)
    expect(copy.slot).toBe(gone.slot)
    expect(() => bbs.crash(gone, 30, 'boom', restartPolicy)).toThrow(/removed|no longer/)
  })
})
