// How a migration shows itself outside the dashboard: on a TTY, a live progress line on stderr and the
// events that matter above it; otherwise (or with --json), one JSON event a line on stdout and a JSON
// summary, which a CI job can read as it streams.
import { RealClock, type Timer } from '../clock.js'
import type { MigrationEvent } from '../core/journal/events.js'
import type { MigrationRecord, StepRecord } from '../core/journal/types.js'
import type { CapacityCheck } from '../core/migration/capacity.js'
import { formatDuration } from '../core/migration/duration.js'
import type { MigrationPlan } from '../core/migration/plan.js'
import type { MigrationOutcome, MigrationProgress } from '../core/migration/runner.js'
import { formatMb, painterFor, table } from '../ui/text.js'

export type OutputMode = 'tty' | 'json'

/** How an app with no route is verified, as the plan states it. */
const ROUTES_RULE = 'an app with no route is verified by its instances alone (the summary names them)'

/**
 * JSON lines when asked, or when stdout is not a terminal (`cfctl migrate ... > run.jsonl`, a CI job): the
 * format follows where the data goes, as with `apps` and `dashboard`, even when stderr is still a terminal.
 */
export function outputMode(json: boolean, stdout: { isTTY?: boolean } = process.stdout): OutputMode {
  return json || stdout.isTTY !== true ? 'json' : 'tty'
}

export function writeJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}

/** The plan as an operator reads it before saying yes. */
export function renderPlan(plan: MigrationPlan, capacity: CapacityCheck, rate: string | null, scope?: string): string {
  const paint = painterFor(process.stdout)
  const lines: string[] = []
  const { totals } = plan
  lines.push(
    paint.bold(`Plan: move ${totals.apps} apps from ${name(plan.from)} to ${name(plan.to)}`) +
      ` (${totals.started} started, ${totals.stopped} stopped; ${totals.instances} instances, ${formatMb(totals.memoryMb)})`,
  )
  if (scope) lines.push(`Scope: ${scope}`)
  lines.push(
    `Pace: ${rate ?? 'no rate limit'}, order ${plan.order}${plan.canary ? `, canary of ${plan.canary} first` : ''}; expected about ${formatDuration(plan.expectedDurationMs)} (${estimateBasis(plan)})`,
  )
  const shown = plan.steps.slice(0, 20).map((step, position) => ({ ...step, position }))
  lines.push(
    table(
      shown,
      [
        { header: '#', value: (s) => String(s.position + 1), align: 'right' },
        { header: 'app', value: (s) => s.appName, shrinkable: true },
        { header: 'org/space', value: (s) => `${s.org}/${s.space}`, shrinkable: true },
        { header: 'state', value: (s) => s.appState.toLowerCase() },
        { header: 'instances', value: (s) => String(s.instances), align: 'right' },
        { header: 'memory', value: (s) => formatMb(s.memoryMb), align: 'right' },
        { header: '', value: (s) => (s.canary ? 'canary' : '') },
      ],
      process.stdout.columns,
    ),
  )
  if (plan.steps.length > shown.length) lines.push(paint.dim(`… and ${plan.steps.length - shown.length} more`))
  for (const verdict of [capacity.target, capacity.wayBack]) {
    const mark = verdict.ok === undefined ? paint.dim('?') : verdict.ok ? paint.green('ok') : paint.red('SHORT')
    lines.push(`Capacity ${verdict === capacity.target ? 'target  ' : 'way back'}: ${mark} ${verdict.message}`)
  }
  lines.push(`Verify: every instance RUNNING on ${name(plan.to)} and the route answering; ${ROUTES_RULE}`)
  for (const warning of plan.warnings) lines.push(`${paint.yellow('warning:')} ${warning}`)
  for (const app of plan.unstaged.slice(0, 20))
    lines.push(`  ${paint.yellow(app.action === 'skip' ? 'skip' : 'move')} ${app.appName}: ${app.reason}`)
  if (plan.unstaged.length > 20) lines.push(paint.dim(`  … and ${plan.unstaged.length - 20} more not staged`))
  return lines.join('\n')
}

/** What the estimate rests on: the rate, steps measured on this target, or a guess. */
export function estimateBasis(plan: Pick<MigrationPlan, 'estimate'>): string {
  const { boundBy, stepMs, samples } = plan.estimate
  if (boundBy === 'rate') return 'set by the rate'
  if (samples > 0) return `${formatDuration(stepMs)} a step, the median of ${samples} measured on this target`
  return `a guess: ${formatDuration(stepMs)} a step, as none has run on this target yet`
}

function name(backend: string): string {
  return backend === 'diego' ? 'Diego' : 'DEA'
}

/** The plan as data, for `--dry-run --json`. */
export function planJson(plan: MigrationPlan, capacity: CapacityCheck, rate: string | null, scope?: string) {
  return {
    type: 'plan',
    scope: scope ?? null,
    to: plan.to,
    from: plan.from,
    order: plan.order,
    rate,
    canary: plan.canary,
    totals: plan.totals,
    expectedDurationMs: plan.expectedDurationMs,
    estimate: plan.estimate,
    capacity: { ok: capacity.ok, target: capacity.target, wayBack: capacity.wayBack },
    warnings: plan.warnings,
    selection: plan.selection,
    unstaged: plan.unstaged,
    routes: ROUTES_RULE,
    steps: plan.steps.map((s, position) => ({
      position,
      guid: s.appGuid,
      name: s.appName,
      org: s.org,
      space: s.space,
      state: s.appState,
      instances: s.instances,
      memoryMb: s.memoryMb,
      canary: s.canary,
    })),
  }
}

/** Live output of a run: returns a function that stops it. */
export function followRun(
  mode: OutputMode,
  subscribe: (listener: (event: MigrationEvent) => void) => () => void,
  progress: () => MigrationProgress,
  about: RunContext = {},
): () => void {
  if (mode === 'json') return subscribe((event) => writeJsonLine(event))
  const paint = painterFor(process.stderr)
  let shown = false
  const clear = () => {
    if (shown) process.stderr.write('\r\u001b[K')
    shown = false
  }
  const draw = () => {
    clear()
    process.stderr.write(progressLine(progress(), about))
    shown = true
  }
  const show = (event: MigrationEvent) => {
    const line = eventLine(event, paint, { ...about, progress: progress() })
    if (!line) return
    clear()
    process.stderr.write(`${line}\n`)
    draw()
  }
  // `set-rate ID 30/min --max-in-flight 10` reaches a runner as two changes in one pass: only the last
  // states the pace that now holds, so a burst of them is shown as that one line.
  let paceChange: MigrationEvent | undefined
  const unsubscribe = subscribe((event) => {
    if (event.type !== 'rate-changed') return show(event)
    const first = paceChange === undefined
    paceChange = event
    if (first)
      queueMicrotask(() => {
        const last = paceChange
        paceChange = undefined
        if (last) show(last)
      })
  })
  const timer: Timer = new RealClock().every(250, draw)
  return () => {
    timer.cancel()
    unsubscribe()
    clear()
  }
}

/** What the live output knows of the run beyond its events. */
export interface RunContext {
  /** The migration's --canary-wait: the canary's pause then ends on its own. */
  canaryWaitMs?: number | null
  /** A rollback of this many moved apps: progress counts them back, not the forward run's steps. */
  rollbackOf?: number
}

export function progressLine(p: MigrationProgress, about: RunContext = {}): string {
  if (about.rollbackOf !== undefined && p.state === 'rolling-back') return rollbackLine(p, about.rollbackOf)
  const done = p.steps.done ?? 0
  const failed = p.steps.failed ?? 0
  const width = 24
  const filled = p.total > 0 ? Math.round((done / p.total) * width) : 0
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
  const rate = p.rate ? `${p.startsInLastPeriod} in the last ${p.rate.split('/')[1]} of ${p.rate}` : 'no rate limit'
  const eta = p.etaMs > 0 ? ` · ETA ${formatDuration(p.etaMs)}` : ''
  const paused = p.state === 'paused' ? ` · PAUSED by ${p.pausedBy}` : ''
  return `${bar} ${done}/${p.total} done · ${p.inFlight}/${p.maxInFlight} in flight · ${failed} failed · ${rate}${eta}${paused}`
}

function rollbackLine(p: MigrationProgress, total: number): string {
  const back = p.steps['rolled-back'] ?? 0
  const width = 24
  const filled = total > 0 ? Math.min(width, Math.round((back / total) * width)) : width
  const paused = p.pausedBy ? ` · PAUSED by ${p.pausedBy}` : ''
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${back}/${total} back · ${p.inFlight}/${p.maxInFlight} in flight · ${p.steps.failed ?? 0} failed${paused}`
}

function eventLine(
  event: MigrationEvent,
  paint: ReturnType<typeof painterFor>,
  about: RunContext & { progress: MigrationProgress },
): string | undefined {
  const standing = `${about.progress.steps.done ?? 0}/${about.progress.total} done, ${about.progress.steps.failed ?? 0} failed`
  switch (event.type) {
    case 'started':
      return event.recovered ? `carrying on after an interruption: ${standing}` : undefined
    case 'step-verified':
      return `${paint.green('✓')} ${event.appName} verified in ${formatDuration(event.ms)}`
    case 'step-skipped':
      return `${paint.yellow('–')} ${event.appName} skipped, not staged: ${event.reason}`
    case 'step-failed':
      return `${paint.red('✗')} ${event.appName}: ${event.error}${event.restored ? ' (flag restored)' : ''}`
    case 'step-rolled-back':
      return `${paint.yellow('↶')} ${event.appName} back on ${event.diego ? 'Diego' : 'DEA'}${event.verified ? ', verified' : ''}`
    case 'gap':
      return `${paint.yellow('gap')} ${event.appName}: no instance answered for ${formatDuration(event.ms)}`
    case 'paused':
      if (event.by === 'canary') return canaryLine(event.at, event.migrationId, about.canaryWaitMs ?? null, paint)
      return `${paint.yellow('paused')} by ${event.by}`
    case 'resumed':
      return event.by === 'resume'
        ? `resumed (cfctl migrate --resume): ${standing}`
        : `resumed by ${event.by}: ${standing}`
    case 'rate-changed':
      return `rate now ${event.rate ?? 'unlimited'}, ${event.maxInFlight} in flight at most`
    case 'cc-unreachable':
      return `${paint.red('CC down')}: ${event.error}; waiting for it, no new app starts`
    case 'cc-answered':
      return `the CC answers again after ${formatDuration(event.downMs)}`
    case 'step-in-doubt':
      return `${paint.yellow('?')} ${event.appName} in doubt: ${event.reason}`
    case 'foreign-flip':
      return `${paint.red('!')} ${event.appName}: diego set to ${event.diego} outside this migration${event.by ? ` by ${event.by}` : ''}`
    case 'probe-path-down':
      return `${paint.red('probes down')}: ${event.detail}`
    case 'lock-taken-over':
      return `took over the lock of pid ${event.fromPid} on ${event.fromHostname} (${event.reason})`
    case 'journal-reconnected':
      return `${paint.yellow('journal back')} after ${formatDuration(event.downMs)} unreachable; no app started meanwhile, those in flight rechecked with the CC`
    default:
      return undefined
  }
}

/** The canary's hold: when it ends on its own, if it does, and what ends it now. */
function canaryLine(at: number, id: string, waitMs: number | null, paint: ReturnType<typeof painterFor>): string {
  const now = `cfctl migrations resume ${id} goes on now`
  if (waitMs === null) return `${paint.yellow('paused')} after the canary until someone resumes it: ${now}`
  const end = new Date(at + waitMs).toISOString().slice(11, 19)
  return `${paint.yellow('paused')} after the canary: goes on by itself at ${end} UTC (in ${formatDuration(waitMs)}); ${now}`
}

/** The summary, as JSON and as text. */
export function summaryJson(outcome: MigrationOutcome, exitCode: number) {
  return { type: 'summary', ...outcome, exitCode }
}

export function renderSummary(outcome: MigrationOutcome, resumeHint: string | undefined): string {
  const paint = painterFor(process.stdout)
  const s = outcome.steps
  const lines = [
    paint.bold(
      `Migration ${outcome.migrationId}: ${outcome.state}${outcome.pausedBy ? ` (by ${outcome.pausedBy})` : ''}`,
    ),
    `  ${s.done ?? 0} done, ${s.failed ?? 0} failed, ${s['rolled-back'] ?? 0} rolled back, ${s.pending ?? 0} pending`,
    outcome.gaps.length === 0
      ? '  routability: no gap (every probe of every moving app was answered)'
      : `  routability: ${outcome.gaps.length} gaps, the longest ${formatDuration(outcome.longestGapMs)}`,
  ]
  for (const gap of outcome.gaps.slice(0, 10)) lines.push(`    ${gap.appName}: ${formatDuration(gap.ms)}`)
  if (outcome.unrouted.length > 0)
    lines.push(
      `  no route, verified by their instances alone: ${outcome.unrouted.length} (${outcome.unrouted
        .slice(0, 10)
        .map((u) => u.appName)
        .join(', ')}${outcome.unrouted.length > 10 ? ', …' : ''})`,
    )
  const skipped = outcome.unstaged.filter((u) => u.action === 'skip')
  const moved = outcome.unstaged.filter((u) => u.action === 'move')
  if (skipped.length > 0) lines.push(`  not staged, skipped (left where they were): ${skipped.length}`)
  for (const u of skipped.slice(0, 20)) lines.push(`    ${u.appName}: ${u.reason}`)
  if (moved.length > 0) lines.push(`  not staged, moved by their flag alone: ${moved.length}`)
  for (const u of moved.slice(0, 20)) lines.push(`    ${u.appName}: ${u.reason}`)
  if (outcome.foreign.length > 0) {
    lines.push(`  changed outside this migration (left as they are): ${outcome.foreign.length}`)
    for (const f of outcome.foreign.slice(0, 20))
      lines.push(`    ${f.appName}: diego=${f.diego}${f.by ? ` by ${f.by}` : ''}`)
  }
  for (const failure of outcome.failures.slice(0, 20))
    lines.push(
      `  ${paint.red('failed')} ${failure.appName}: ${failure.error}${failure.restored ? ' (back on its source)' : ''}`,
    )
  if (resumeHint) lines.push(`  ${resumeHint}`)
  return lines.join('\n')
}

/** One migration as `migrations list` shows it. */
export function migrationRow(m: MigrationRecord, counts: Record<string, number>, cutShort = false) {
  const total = Object.values(counts).reduce((a, b) => a + b, 0)
  return {
    id: m.id,
    state: m.state,
    /** It says running (or rolling-back) but no cfctl runs it: kill -9, a crash. */
    interrupted: cutShort,
    to: m.to,
    target: m.target,
    done: counts.done ?? 0,
    failed: counts.failed ?? 0,
    total,
    pausedBy: m.pausedBy,
    rate: m.parameters.rate,
    createdAt: new Date(m.createdAt).toISOString(),
  }
}

export function stepRow(s: StepRecord) {
  return {
    position: s.position,
    app: s.appName,
    guid: s.appGuid,
    orgSpace: `${s.org}/${s.space}`,
    state: s.state,
    from: s.originalDiego ? 'diego' : 'dea',
    to: s.targetDiego ? 'diego' : 'dea',
    attempts: s.attempts,
    error: s.error,
  }
}
