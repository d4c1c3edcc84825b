// The converger's desired sync (nsync's bulker) on a CC that can say what changed: it compares only those
// apps between full syncs, and still brings the DesiredLRPs to what the CC wants when the CC's messages
// to Diego were lost.
import { describe, expect, it } from 'vitest'
import type { AppSpec, BackendName, DesiredDelta, DesiredStateSource } from '../../../src/scheduler/backend.js'
import { FakeClock } from '../../../src/scheduler/clock.js'
import { FULL_SYNC_EVERY } from '../../../src/scheduler/desired-sync.js'
import { type ConvergeActions, type DesiredChanges, desiredLrpFrom } from '../../../src/scheduler/diego/converge.js'
import { Converger } from '../../../src/scheduler/diego/converger.js'
import { mulberry32 } from '../../../src/scheduler/random.js'
import { aBbs, anApp, restartPolicy } from './builders.js'

/** A CC whose messages never reach Diego: only the sync carries its changes over. */
class SilentCc implements DesiredStateSource {
  readonly apps = new Map<string, AppSpec>()
  private readonly log: string[] = []
  wholeReads = 0
  /** When true, the CC cannot say what changed (say, after a write it did not follow). */
  forgetful = false

  set(spec: AppSpec): void {
    this.apps.set(spec.appGuid, spec)
    this.log.push(spec.appGuid)
  }
  remove(appGuid: string): void {
    this.apps.delete(appGuid)
    this.log.push(appGuid)
  }
  desiredApps(_backend: BackendName): Iterable<AppSpec> {
    this.wholeReads++
    return [...this.apps.values()]
  }
  desiredChangesSince(_backend: BackendName, cursor: number | undefined): DesiredDelta {
    const changed = cursor === undefined || this.forgetful ? undefined : this.log.slice(cursor)
    return { cursor: this.log.length, changed }
  }
  desiredApp(_backend: BackendName, appGuid: string): AppSpec | undefined {
    return this.apps.get(appGuid)
  }
}

function aConverger(cc: SilentCc) {
  const bbs = aBbs()
  const clock = new FakeClock(0)
  const converger = new Converger({
    clock,
    intervalMs: 30_000,
    source: cc,
    bbs,
    config: {
      staleUnclaimedMs: 30_000,
      kickPendingTaskMs: 30_000,
      expireCompletedTaskMs: 120_000,
      restart: restartPolicy,
    },
    target: {
      applyDesiredChanges(changes: DesiredChanges) {
        for (const guid of changes.remove) bbs.removeDesiredLrp(guid)
        for (const spec of [...changes.create, ...changes.update]) {
          const desired = desiredLrpFrom(spec)
          if (bbs.desiredLrp(desired.processGuid)) bbs.updateDesiredLrp(desired)
          else bbs.desireLrp(desired)
        }
      },
      applyConvergence(_actions: ConvergeActions) {},
    },
  })
  const desired = () =>
    Object.fromEntries([...bbs.desiredLrps()].map((d) => [d.appGuid, `${d.version}x${d.instances}`]).sort())
  const wanted = () =>
    Object.fromEntries([...cc.apps.values()].map((s) => [s.appGuid, `${s.version}x${s.instances}`]).sort())
  return { converger, desired, wanted }
}

describe('the converger desired sync', () => {
  it('compares only what changed between full syncs, and still ends where the CC is', () => {
    const cc = new SilentCc()
    for (let i = 0; i < 50; i++) cc.set(anApp(`app-${i}`))
    const { converger, desired, wanted } = aConverger(cc)
    const random = mulberry32(7)
    for (let pass = 0; pass < 3 * FULL_SYNC_EVERY; pass++) {
      for (let k = 0; k < 3; k++) {
        const guid = `app-${Math.floor(random() * 60)}`
        const roll = random()
        if (roll < 0.3) cc.remove(guid)
        else cc.set(anApp(guid, { instances: 1 + Math.floor(random() * 3), version: roll < 0.6 ? 'v1' : 'v2' }))
      }
      const changes = converger.pass().changes
      expect(desired(), `after pass ${pass}`).toEqual(wanted())
      // After the first pass (every app new), each pass changes only what the CC changed since the last.
      if (pass > 0) expect(changes.create.length + changes.update.length + changes.remove.length).toBeLessThanOrEqual(6)
    }
    // The first pass and one in every FULL_SYNC_EVERY read the CC whole; the others only what changed.
    expect(cc.wholeReads).toBe(3)
  })

  it('reads the CC whole when it cannot say what changed', () => {
    const cc = new SilentCc()
    cc.set(anApp('a'))
    const { converger, desired, wanted } = aConverger(cc)
    converger.pass()
    cc.forgetful = true
    cc.set(anApp('b'))
    converger.pass()
    expect(cc.wholeReads).toBe(2)
    expect(desired()).toEqual(wanted())
  })
})
