// Changes of `diego` this migration did not make. A migration is not alone on its target: a developer may
// `cf enable-diego` an app, or a second operator may run cfctl with a journal of their own. Every flip the
// CC makes leaves an audit.app.update event (GET /v2/events) naming the flag, the app, the time and who;
// this reads them for the apps of the migration and keeps those its own journal does not explain: a flag
// set to its target before this migration's intent to set it, or to its original value with no put-back of
// this migration under way. That works against any CC v2 the operator may read events on, with no
// cooperation from the other cfctl. A change reported once is not reported again (a resume is the
// operator's word on it).
import type { Clock } from '../../clock.js'
import type { Journal } from '../journal/journal.js'
import type { StepRecord } from '../journal/types.js'
import type { FlagEvent, MigrationPort } from './port.js'

/** Who pauses a run that saw changes it did not make. */
export const FOREIGN_FLIPS = 'foreign-flips'

/** How far back the first look of a run goes: flips this recent mean someone else may be at work. */
export const FOREIGN_LOOKBACK_MS = 10 * 60_000

/** The CC's clock and this one may differ by this much (and a real CC keeps whole seconds). */
const SKEW_MS = 5_000

export interface ForeignFlip {
  appGuid: string
  appName: string
  position: number
  diego: boolean
  by: string
  eventId: string
}

export class ForeignFlipWatch {
  private readonly journal: Journal
  private readonly migrationId: string
  private readonly port: MigrationPort
  private since: number
  private readonly seen = new Set<string>()
  /** The steps of the journal's other migrations on this target, by app: their flips are this operator's too. */
  private readonly earlier = new Map<string, StepRecord[]>()

  constructor(journal: Journal, migrationId: string, port: MigrationPort, clock: Clock) {
    this.journal = journal
    this.migrationId = migrationId
    this.port = port
    this.since = clock.now() - FOREIGN_LOOKBACK_MS
    for (const event of journal.events(migrationId)) {
      if (event.type === 'foreign-flip' && event.eventId) this.seen.add(event.eventId)
    }
    const { target } = journal.requireMigration(migrationId)
    for (const other of journal.migrations()) {
      if (other.id === migrationId || other.target !== target) continue
      for (const step of journal.steps(other.id)) {
        if (step.flippingAt === null) continue
        const list = this.earlier.get(step.appGuid)
        if (list) list.push(step)
        else this.earlier.set(step.appGuid, [step])
      }
    }
  }

  /** Whether the target shows its flag changes at all. */
  get available(): boolean {
    return this.port.flagEvents !== undefined
  }

  /**
   * The changes made since the last look that this migration did not make, oldest first: on its apps, and
   * with `anyApp` (the look before a run's first flip) on any app of the target that this journal did not
   * change: someone else flipping apps there now is most likely another migration.
   */
  async poll(options: { anyApp?: boolean } = {}): Promise<ForeignFlip[]> {
    if (!this.port.flagEvents) return []
    const events = await this.port.flagEvents(new Date(this.since))
    const steps = new Map(this.journal.steps(this.migrationId).map((s) => [s.appGuid, s]))
    const found: ForeignFlip[] = []
    for (const event of events) {
      // The next look starts a little before the last change seen: the CC's timestamps are whole seconds.
      this.since = Math.max(this.since, event.at - 1_000)
      if (this.seen.has(event.id)) continue
      this.seen.add(event.id)
      const step = steps.get(event.appGuid)
      if (step ? madeBy(step, event) : !options.anyApp) continue
      if (this.earlier.get(event.appGuid)?.some((earlier) => madeBy(earlier, event))) continue
      found.push({
        appGuid: event.appGuid,
        appName: step?.appName ?? event.appName ?? event.appGuid,
        // An app outside this migration has no place in it.
        position: step?.position ?? -1,
        diego: event.diego,
        by: event.actor,
        eventId: event.id,
      })
    }
    return found
  }
}

/**
 * Whether the step's journal explains the change: it falls between the intent to make it and the step's
 * next transition (or the step is still at it).
 */
function madeBy(step: StepRecord, event: FlagEvent): boolean {
  const within = (start: number | null, end: number | null) =>
    start !== null && event.at >= start - SKEW_MS && (end === null || end < start || event.at <= end + SKEW_MS)
  if (event.diego === step.targetDiego) {
    return within(step.flippingAt, step.verifyingAt ?? step.failedAt ?? step.rollingBackAt)
  }
  if (event.diego === step.originalDiego) return within(step.rollingBackAt, step.rolledBackAt ?? step.failedAt)
  return false
}
