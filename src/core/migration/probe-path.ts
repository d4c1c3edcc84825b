// A route probe that fails for an app whose instances all run says little on its own: the app may be
// broken, or the way to every app may be (the router moved, a load balancer is down). Before a step is
// failed, and put back, for its route alone, its runner asks this: do the apps that answered before, and
// are not moving now, still answer? If none does, even after the CC's /v2/info was read again for where to
// probe, the probe path is down, and the run pauses rather than rolling healthy apps back.
import type { Clock } from '../../clock.js'
import type { MigrationPort } from './port.js'

/** Apps whose route answered last, kept as controls. */
const KEPT = 16
/** Controls probed per check. */
const CONTROLS = 3

export type ProbePathVerdict = { down: false } | { down: true; detail: string }

export class ProbePath {
  private readonly port: MigrationPort
  private readonly clock: Clock
  /** guid -> name and when its route last answered, oldest first. */
  private readonly answered = new Map<string, { name: string; at: number }>()
  private pending: Promise<ProbePathVerdict> | undefined

  constructor(port: MigrationPort, clock: Clock) {
    this.port = port
    this.clock = clock
  }

  /** The app's route answered now. */
  noteAnswered(guid: string, name: string): void {
    this.answered.delete(guid)
    this.answered.set(guid, { name, at: this.clock.now() })
    if (this.answered.size > KEPT) this.answered.delete(this.answered.keys().next().value!)
  }

  /** The app is moving again: it is no control while it does. */
  forget(guid: string): void {
    this.answered.delete(guid)
  }

  /**
   * Whether the probe path is down, for `guid`, an app whose instances all run but whose route does not
   * answer. One check at a time: the steps that ask meanwhile share its verdict.
   */
  check(guid: string, name: string): Promise<ProbePathVerdict> {
    this.pending ??= this.run(guid, name).finally(() => {
      this.pending = undefined
    })
    return this.pending
  }

  private async run(guid: string, name: string): Promise<ProbePathVerdict> {
    const controls = [...this.answered.entries()]
      .filter(([g]) => g !== guid)
      .slice(-CONTROLS)
      .reverse()
    // Nothing to compare with: the app's own route decides, as before.
    if (controls.length === 0) return { down: false }
    if (await this.anyAnswers([guid, ...controls.map(([g]) => g)])) return { down: false }
    // The router may have moved (a foundation restarted elsewhere): ask the CC where to probe, and try again.
    const moved = await this.port.refreshProbePath?.().catch(() => undefined)
    if (moved && (await this.anyAnswers([guid, ...controls.map(([g]) => g)]))) return { down: false }
    const names = controls.map(([, c]) => `${c.name} (answered ${Math.round((this.clock.now() - c.at) / 1000)} s ago)`)
    return {
      down: true,
      detail: `the route of ${name}, whose instances all run, does not answer, nor do those of apps that are not moving: ${names.join(', ')}; the probe path (the router, or the way to it) looks down${moved ? ` (also through ${moved}, the router the CC names now)` : ''}`,
    }
  }

  private async anyAnswers(guids: string[]): Promise<boolean> {
    const answers = await Promise.all(guids.map((g) => this.port.probe(g).catch(() => false)))
    return answers.some(Boolean)
  }
}
