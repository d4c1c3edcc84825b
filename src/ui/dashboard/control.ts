// What the control keys do. A runner in this process (`cfctl migrate --ui`) is told directly; otherwise the
// command goes through controlMigration, into the journal, where the cfctl that runs the migration picks it
// up within a second (and `cfctl migrations show` in another terminal sees the same). Rollback needs a
// runner: this process's own, once its run has stopped, or a new one when nothing else holds the migration.
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
  /** Builds a runner for a rollback when no process holds the migration. */
  rollbackRunner?: (migrationId: string) => MigrationRunner
  /** Written as "paused by ..." in the journal. */
  by?: string
}

/** What a key did, in a line the status bar shows. */
export interface ControlResult {
  text: string
  tone: 'good' | 'warn' | 'bad' | 'info'
}

/** A rollback this process runs, so quitting can interrupt it cleanly. */
interface OwnRollback {
  runner: MigrationRunner
  done: Promise<void>
}

export class MigrationControl {
  private readonly journal: Journal
  private readonly clock: Clock
  private readonly runner: MigrationRunner | undefined
  private readonly rollbackRunner: ((id: string) => MigrationRunner) | undefined
  private readonly by: string
  private rollback: OwnRollback | undefined
  private readonly finishListeners = new Set<(result: ControlResult) => void>()

  constructor(options: ControlOptions) {
    this.journal = options.journal
    this.clock = options.clock
    this.runner = options.runner
    this.rollbackRunner = options.rollbackRunner
    this.by = options.by ?? 'dashboard'
  }

  /** The migration a rollback runs for in this process, if one does. */
  get rollingBack(): string | undefined {
    return this.rollback?.runner.migrationId
  }

  /** Hears how a rollback started here ended. */
  onFinish(listener: (result: ControlResult) => void): () => void {
    this.finishListeners.add(listener)
    return () => this.finishListeners.delete(listener)
  }

  async apply(migrationId: string, action: ControlAction): Promise<ControlResult> {
    switch (action) {
      case 'pause':
        return this.send(migrationId, { type: 'pause', by: this.by }, (r) => r.pause(this.by), 'paused')
      case 'resume':
        return this.send(migrationId, { type: 'resume', by: this.by }, (r) => r.resume(this.by), 'resumed')
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

  /** Interrupts a rollback this process runs (it stays resumable) and waits for it to stop. */
  async shutdown(): Promise<void> {
    const own = this.rollback
    if (!own) return
    if (own.runner.running) own.runner.interrupt(this.by)
    await own.done
  }

  private ownRunnerFor(migrationId: string): MigrationRunner | undefined {
    return this.runner && this.runner.migrationId === migrationId && this.runner.running ? this.runner : undefined
  }

  private send(
    migrationId: string,
    command: ControlCommand,
    direct: (runner: MigrationRunner) => void,
    done: string,
  ): ControlResult {
    const own = this.ownRunnerFor(migrationId) ?? this.activeRollback(migrationId)
    if (own) {
      direct(own)
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

  private activeRollback(migrationId: string): MigrationRunner | undefined {
    const own = this.rollback?.runner
    return own && own.migrationId === migrationId && own.running ? own : undefined
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
    const own = this.ownRunnerFor(migrationId) ?? this.activeRollback(migrationId)
    if (own) {
      own.setRate(next)
      return { text: `rate now ${next ?? 'without limit'}`, tone: 'good' }
    }
    const result = controlMigration(this.journal, migrationId, { type: 'set-rate', rate: next })
    return result.delivered === 'runner'
      ? { text: `rate ${next ?? 'without limit'} sent to cfctl (pid ${result.lock.pid})`, tone: 'info' }
      : { text: `rate now ${next ?? 'without limit'} (written to the journal)`, tone: 'good' }
  }

  private async startRollback(migrationId: string): Promise<ControlResult> {
    if (this.rollback)
      return { text: `a rollback of ${this.rollback.runner.migrationId} is running already`, tone: 'warn' }
    const migration = this.journal.requireMigration(migrationId)
    if (migration.state === 'rolled-back') return { text: `${migrationId} is rolled back already`, tone: 'warn' }
    let runner: MigrationRunner
    if (this.runner && this.runner.migrationId === migrationId) {
      runner = this.runner
      // The run stops first: no new step starts, those in flight settle, then the way back begins.
      if (runner.running) {
        runner.abort(this.by)
        while (runner.running) await this.clock.sleep(100)
      }
    } else {
      const lock = this.journal.liveLockOf(migrationId)
      if (lock) {
        return {
          text: `cfctl (pid ${lock.pid} on ${lock.hostname}) runs ${migrationId}: abort it first (a), then roll back`,
          tone: 'warn',
        }
      }
      if (!this.rollbackRunner)
        return { text: `no rollback from here: run cfctl rollback ${migrationId}`, tone: 'warn' }
      runner = this.rollbackRunner(migrationId)
    }
    const done = runner
      .rollback()
      .then(
        (outcome): ControlResult =>
          outcome.state === 'rolled-back'
            ? { text: `rolled back ${migrationId}`, tone: 'good' }
            : { text: `rollback of ${migrationId} stopped (${outcome.state}); b carries it on`, tone: 'warn' },
        (error: unknown): ControlResult => ({
          text: `rollback failed: ${error instanceof Error ? error.message : String(error)}`,
          tone: 'bad',
        }),
      )
      .then((result) => {
        this.rollback = undefined
        for (const listener of this.finishListeners) listener(result)
      })
    this.rollback = { runner, done }
    return { text: `rolling back ${migrationId}, last moved first`, tone: 'info' }
  }
}
