// The converger shell: on its interval, first sync the DesiredLRPs from the CC (nsync's bulker), then run
// one convergence pass over the BBS and hand the actions to the engine to apply.

import type { DesiredStateSource } from '../backend.js'
import type { Clock, Timer } from '../clock.js'
import type { Bbs } from './bbs.js'
import { type ConvergeActions, type ConvergeConfig, converge, type DesiredChanges, diffDesired } from './converge.js'

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
    const { clock, source, bbs, config, target } = this.deps
    const changes = diffDesired(bbs.desiredLrps(), source.desiredApps('diego'))
    target.applyDesiredChanges(changes)
    const at = clock.now()
    const actions = converge(bbs, at, config)
    target.applyConvergence(actions)
    return { at, changes, actions }
  }
}
