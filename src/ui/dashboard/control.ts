// What the control keys do. A runner in this process is told directly: the one `cfctl migrate --ui` hands
// over, or one the dashboard started itself (to resume a migration nobody runs, or to roll one back).
// Otherwise the command goes through controlMigration, into the journal, where the cfctl that runs the
// migration picks it up within a second (and `cfctl migrations show` in another terminal sees the same).
import type { Clock } from '../../clock.js'
import type { Journal } from '../../core/journal/journal.js'
import type { ControlCommand } from '../../core/journal/types.js'
import { controlMigration } from '../../core/migration/control.js'
import type { MigrationRunner } from '../../core/migration/runner.js'
import { nextRate } from './pace.js'

export type ControlAction = 'pause' | 'resume' | 'abort' | 'rollback' | 'faster' | 'slower'

export interface ControlOptions {
  journal: Journal
  clock: Clock
  /** A runner this process drives (`cfctl migrate --ui`). */
  runner?: MigrationRunner
  /** Builds a runner for a migration no process runs, so `r` can resume it here and `b` roll it back. */
  runnerFor?: (migrationId: string) => MigrationRunner
  /** Written as "paused by ..." in the journal. */
  by?: string
}

/** What a key did, in a line the status bar shows. */
export interface ControlResult {
  text: string
  tone: 'good' | 'warn' | 'bad' | 'info'
}

/** A run or a rollback this dashboard started, so quitting can interrupt it cleanly. */
export interface OwnWork {
  migrationId: string
  what: 'run' | 'rollback'
}

interface Running extends OwnWork {
  runner: MigrationRunner
  done: Promise<void>
}

export class MigrationControl {
  private readonly journal: Journal
  private readonly clock: Clock
  private readonly runner: MigrationRunner | undefined
  private readonly runnerFor: ((id: string) => MigrationRunner) | undefined
  private readonly by: string
  private own: Running | undefined
  private readonly finishListeners = new Set<(result: ControlResult) => void>()

  constructor(options: ControlOptions) {
    this.journal = options.journal
    this.clock = options.clock
    this.runner = options.runner
    this.runnerFor = options.runnerFor
    this.by = options.by ?? 'dashboard'
  }

  /**
   * The run or rollback that goes on in this process, if any: one this dashboard started, or the run
   * `cfctl migrate --ui` handed it. Either way quitting stops it (paused, resumable), so q asks first.
   */
  get busy(): OwnWork | undefined {
    if (this.own) return { migrationId: this.own.migrationId, what: this.own.what }
    if (this.runner?.running) return { migrationId: this.runner.migrationId, what: 'run' }
    return undefined
  }

  /** Hears how a run or a rollback started here ended. */
  onFinish(listener: (result: ControlResult) => void): () => void {
    this.finishListeners.add(listener)
    return () => this.finishListeners.delete(listener)
  }

  async apply(migrationId: string, action: ControlAction): Promise<ControlResult> {
    switch (action) {
      case 'pause':
        return this.send(migrationId, { type: 'pause', by: this.by }, (r) => r.pause(this.by), 'paused')
      case 'resume':
        return this.resume(migrationId)
      case 'abort':
        return this.send(
          migrationId,
          { type: 'abort', by: this.by },
          (r) => r.abort(this.by),
          'aborting: the steps in flight finish, no new one starts',
        )
      case 'faster':
      case 'slower':
        return this.changeRate(migrationId, action === 'faster' ? 1 : -1)
      case 'rollback':
        return this.startRollback(migrationId)
    }
  }

  /** Interrupts a run or rollback this dashboard started (it stays resumable) and waits for it to stop. */
  async shutdown(): Promise<void> {
    const own = this.own
    if (!own) return
    if (own.runner.running) own.runner.interrupt(this.by)
    await own.done
  }

  /** A runner of this process that is running this migration now. */
  private active(migrationId: string): MigrationRunner | undefined {
    for (const runner of [this.own?.runner, this.runner]) {
      if (runner && runner.migrationId === migrationId && runner.running) return runner
    }
    return undefined
  }

  private send(
    migrationId: string,
    command: ControlCommand,
    direct: (runner: MigrationRunner) => void,
    done: string,
  ): ControlResult {
    const runner = this.active(migrationId)
    if (runner) {
      direct(runner)
      return { text: done, tone: 'good' }
    }
    const result = controlMigration(this.journal, migrationId, command)
    if (result.delivered === 'runner') {
      return {
        text: `${command.type} sent to cfctl (pid ${result.lock.pid}); it applies within a second`,
        tone: 'info',
      }
    }
    return { text: `${done} (no cfctl runs it: written to the journal)`, tone: 'good' }
  }

  /** Resumes it where it runs; when nothing runs it, runs it here (a paused migration waits for a process). */
  private resume(migrationId: string): ControlResult {
    // A key must never start what nobody confirmed: a migration that never started (a `planned` record, one
    // paused before it ran) is started only by `cfctl migrate --resume ID`, which shows it and asks.
    if (neverStarted(this.journal, migrationId)) {
      return {
        text: `${migrationId} was never started; r does not start it (cfctl migrate --resume ${migrationId} shows it and asks)`,
        tone: 'warn',
      }
    }
    if (this.active(migrationId) || this.journal.liveRunnerOf(migrationId) || !this.runnerFor) {
      return this.send(migrationId, { type: 'resume', by: this.by }, (r) => r.resume(this.by), 'resumed')
    }
    const migration = this.journal.requireMigration(migrationId)
    if (migration.state !== 'paused' && migration.state !== 'running') {
      return { text: `${migrationId} is ${migration.state}; there is nothing to resume`, tone: 'warn' }
    }
    if (this.own) return { text: `this dashboard already runs ${this.own.migrationId}`, tone: 'warn' }
    const runner = this.runnerFor(migrationId)
    this.start(migrationId, 'run', runner, () => runner.run())
    return { text: `resumed: this dashboard runs ${migrationId} now (q asks before it stops)`, tone: 'good' }
  }

  private changeRate(migrationId: string, direction: 1 | -1): ControlResult {
    const migration = this.journal.requireMigration(migrationId)
    const next = nextRate(migration.parameters.rate, direction)
    if (next === undefined) {
      return {
        text:
          direction > 0 ? 'already without a rate limit' : `already at the slowest step (${migration.parameters.rate})`,
        tone: 'warn',
      }
    }
    const runner = this.active(migrationId)
    if (runner) {
      runner.setRate(next)
      return { text: `rate now ${next ?? 'without limit'}`, tone: 'good' }
    }
    const result = controlMigration(this.journal, migrationId, { type: 'set-rate', rate: next })
    return result.delivered === 'runner'
      ? { text: `rate ${next ?? 'without limit'} sent to cfctl (pid ${result.lock.pid})`, tone: 'info' }
      : { text: `rate now ${next ?? 'without limit'} (written to the journal)`, tone: 'good' }
  }

  private async startRollback(migrationId: string): Promise<ControlResult> {
    const migration = this.journal.requireMigration(migrationId)
    if (migration.state === 'rolled-back') return { text: `${migrationId} is rolled back already`, tone: 'warn' }
    if (this.own?.what === 'rollback') {
      return { text: `a rollback of ${this.own.migrationId} is running already`, tone: 'warn' }
    }
    // A runner of this process that runs it: its run stops first (no new step starts, those in flight
    // settle), then the same runner takes the apps back.
    const mine = [this.own?.runner, this.runner].find((r) => r?.migrationId === migrationId)
    let runner: MigrationRunner
    if (mine) {
      runner = mine
      if (runner.running) {
        runner.abort(this.by)
        while (runner.running) await this.clock.sleep(100)
      }
      if (this.own?.runner === runner) await this.own.done
    } else {
      const lock = this.journal.liveRunnerOf(migrationId)
      if (lock) {
        return {
          text: `cfctl (pid ${lock.pid} on ${lock.hostname}) runs ${migrationId}: abort it (a) and press b again, or run cfctl rollback ${migrationId}, which takes it over`,
          tone: 'warn',
        }
      }
      if (!this.runnerFor) return { text: `no rollback from here: run cfctl rollback ${migrationId}`, tone: 'warn' }
      if (this.own) return { text: `this dashboard already runs ${this.own.migrationId}`, tone: 'warn' }
      runner = this.runnerFor(migrationId)
    }
    this.start(migrationId, 'rollback', runner, () => runner.rollback())
    return { text: `rolling back ${migrationId}, last moved first`, tone: 'info' }
  }

  private start(
    migrationId: string,
    what: Running['what'],
    runner: MigrationRunner,
    work: () => Promise<{ state: string }>,
  ): void {
    const done = work()
      .then(
        (outcome): ControlResult =>
          what === 'rollback'
            ? outcome.state === 'rolled-back'
              ? { text: `rolled back ${migrationId}`, tone: 'good' }
              : { text: `rollback of ${migrationId} stopped (${outcome.state}); b carries it on`, tone: 'warn' }
            : { text: `${migrationId} ${outcome.state}`, tone: outcome.state === 'completed' ? 'good' : 'warn' },
        (error: unknown): ControlResult => ({
          text: `${what === 'rollback' ? 'rollback' : 'run'} of ${migrationId} failed: ${error instanceof Error ? error.message : String(error)}`,
          tone: 'bad',
        }),
      )
      .then((result) => {
        if (this.own?.done === done) this.own = undefined
        for (const listener of this.finishListeners) listener(result)
      })
    this.own = { migrationId, what, runner, done }
  }
}

/** No runner ever took it: still `planned`, or paused from the journal before any run. */
export function neverStarted(journal: Journal, migrationId: string): boolean {
  const migration = journal.migration(migrationId)
  if (!migration) return false
  if (migration.state === 'planned') return true
  if (migration.state !== 'paused') return false
  return !journal.events(migrationId).some((e) => e.type === 'started' || e.type === 'rollback-started')
}
