// The converger shell: on its interval, first sync the DesiredLRPs from the CC (nsync's bulker), then run
// one convergence pass over the BBS and hand the actions to the engine to apply. The sync compares only
// the apps the CC says changed since the last one, when it can say, and every app on every
// FULL_SYNC_EVERY-th pass, as nsync's bulker does on each of its (rarer) runs.

import type { DesiredStateSource } from '../backend.js'
import type { Clock, Timer } from '../clock.js'
import type { Bbs } from './bbs.js'
import {
  type ConvergeActions,
  type ConvergeConfig,
  converge,
  type DesiredChanges,
  diffDesired,
  diffDesiredApps,
} from './converge.js'

/** Every this many passes the desired sync compares every app, whatever the CC says changed. */
export const FULL_SYNC_EVERY = 30

export interface ConvergenceTarget {
  applyDesiredChanges(changes: DesiredChanges): void
  applyConvergence(actions: ConvergeActions): void
}

export interface ConvergencePass {
  at: number
  changes: DesiredChanges
  actions: ConvergeActions
}

export class Converger {
  private timer: Timer | undefined
  private cursor: number | undefined
  private passesSinceFullSync = 0

  constructor(
    private readonly deps: {
      clock: Clock
      intervalMs: number
      source: DesiredStateSource
      bbs: Bbs
      config: ConvergeConfig
      target: ConvergenceTarget
    },
  ) {}

  start(): void {
    if (this.timer) return
    this.timer = this.deps.clock.every(this.deps.intervalMs, () => this.pass())
  }

  stop(): void {
    this.timer?.cancel()
    this.timer = undefined
  }

  pass(): ConvergencePass {
    const { clock, bbs, config, target } = this.deps
    const changes = this.desiredChanges()
    target.applyDesiredChanges(changes)
    const at = clock.now()
    const actions = converge(bbs, at, config)
    target.applyConvergence(actions)
    return { at, changes, actions }
  }

  private desiredChanges(): DesiredChanges {
    const { source, bbs } = this.deps
    const delta = source.desiredChangesSince?.('diego', this.cursor)
    this.cursor = delta?.cursor
    const desiredApp = source.desiredApp?.bind(source)
    if (delta?.changed !== undefined && desiredApp && ++this.passesSinceFullSync < FULL_SYNC_EVERY) {
      return diffDesiredApps(
        delta.changed,
        (appGuid) => bbs.desiredOfApp(appGuid),
        (appGuid) => desiredApp('diego', appGuid),
      )
    }
    this.passesSinceFullSync = 0
    return diffDesired(bbs.desiredLrps(), source.desiredApps('diego'))
  }
}
