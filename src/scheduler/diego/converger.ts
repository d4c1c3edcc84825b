// The converger shell: on its interval, first sync the DesiredLRPs from the CC (nsync's bulker, through
// DesiredSync: the apps changed since the last sync, or all of them), then run one convergence pass over
// the BBS and hand the actions to the engine to apply.

import type { DesiredStateSource } from '../backend.js'
import type { Clock, Timer } from '../clock.js'
import { DesiredSync } from '../desired-sync.js'
import type { Bbs } from './bbs.js'
import {
  type ConvergeActions,
  type ConvergeConfig,
  converge,
  type DesiredChanges,
  diffDesired,
  diffDesiredApps,
} from './converge.js'

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
  private readonly sync: DesiredSync

  constructor(
    private readonly deps: {
      clock: Clock
      intervalMs: number
      source: DesiredStateSource
      bbs: Bbs
      config: ConvergeConfig
      target: ConvergenceTarget
    },
  ) {
    this.sync = new DesiredSync(deps.source, 'diego')
  }

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
    const { bbs } = this.deps
    const read = this.sync.read()
    if (read.kind === 'full') return diffDesired(bbs.desiredLrps(), read.apps)
    return diffDesiredApps(read.appGuids, (appGuid) => bbs.desiredOfApp(appGuid), read.app)
  }
}
