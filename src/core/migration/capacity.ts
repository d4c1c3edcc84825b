// Whether the target can hold what moves, and whether the way back exists, from the capacity a backend
// shows (a real CC may show none; then the check says so rather than guessing). Pure.
import type { Backend } from '../journal/types.js'
import type { MigrationPlan } from './plan.js'
import type { BackendCapacity } from './port.js'

export interface CapacityVerdict {
  /** undefined when the backend does not show its capacity. */
  ok: boolean | undefined
  message: string
}

export interface CapacityCheck {
  /** False when a backend that shows its capacity is short; a migration refuses to start unless forced. */
  ok: boolean
  target: CapacityVerdict & { backend: Backend; needMemoryMb: number; freeMemoryMb?: number }
  wayBack: CapacityVerdict & { backend: Backend; needMemoryMb: number; freeMemoryMb?: number }
  messages: string[]
}

/**
 * target: the started apps' memory (and instances, where containers are shown) against what the target has free.
 * way back: a failed app is flipped back on its own, and its old instances may already be gone by then, so the
 * source must keep room for the apps that are in flight at once (the `maxInFlight` largest); and it must not be
 * over-committed already, or a full rollback could not fit what left it.
 */
export function checkCapacity(
  plan: Pick<MigrationPlan, 'to' | 'from' | 'steps' | 'totals'>,
  capacity: { target?: BackendCapacity; source?: BackendCapacity; maxInFlight?: number },
): CapacityCheck {
  const target = checkTarget(plan, capacity.target)
  const wayBack = checkWayBack(plan, capacity.source, capacity.maxInFlight ?? 1)
  return {
    ok: target.ok !== false && wayBack.ok !== false,
    target,
    wayBack,
    messages: [target.message, wayBack.message],
  }
}

function checkTarget(
  plan: Pick<MigrationPlan, 'to' | 'totals'>,
  capacity: BackendCapacity | undefined,
): CapacityCheck['target'] {
  const need = plan.totals.memoryMb
  const base = { backend: plan.to, needMemoryMb: need }
  if (!capacity) {
    return { ...base, ok: undefined, message: `${plan.to} does not show its capacity; not checked (${mb(need)} moves)` }
  }
  const free = capacity.memoryMb.total - capacity.memoryMb.used
  const shortMemory = need - free
  // The rule `cfctl backends` shows: a backend without a container total (the DEAs) has no container limit.
  const limit = capacity.containers?.total ?? null
  const containersFree = limit === null ? undefined : limit - capacity.containers!.used
  const shortContainers = containersFree === undefined ? 0 : plan.totals.instances - containersFree
  if (shortMemory > 0 || shortContainers > 0) {
    const parts: string[] = []
    if (shortMemory > 0) parts.push(`needs ${mb(need)} of memory, ${mb(free)} free (short by ${mb(shortMemory)})`)
    if (shortContainers > 0) {
      parts.push(`needs ${plan.totals.instances} containers, ${containersFree} free (short by ${shortContainers})`)
    }
    return {
      ...base,
      freeMemoryMb: free,
      ok: false,
      message: `${plan.to} cannot hold the selection: ${parts.join('; ')}`,
    }
  }
  const share = free > 0 ? Math.round((need / free) * 100) : 0
  const containers =
    containersFree === undefined ? '' : `, ${plan.totals.instances} of ${containersFree} free containers`
  return {
    ...base,
    freeMemoryMb: free,
    ok: true,
    message: `${plan.to} can hold the selection: it takes ${mb(need)}, ${share}% of the ${mb(free)} free${containers}`,
  }
}

function checkWayBack(
  plan: Pick<MigrationPlan, 'from' | 'steps'>,
  capacity: BackendCapacity | undefined,
  maxInFlight: number,
): CapacityCheck['wayBack'] {
  const footprints = plan.steps
    .filter((s) => s.appState === 'STARTED')
    .map((s) => s.instances * s.memoryMb)
    .sort((a, b) => b - a)
  const need = footprints.slice(0, maxInFlight).reduce((sum, n) => sum + n, 0)
  const base = { backend: plan.from, needMemoryMb: need }
  if (!capacity) {
    return { ...base, ok: undefined, message: `${plan.from} does not show its capacity; the way back is not checked` }
  }
  const free = capacity.memoryMb.total - capacity.memoryMb.used
  if (free < 0) {
    return {
      ...base,
      freeMemoryMb: free,
      ok: false,
      message: `no way back: ${plan.from} is over-committed (${mb(capacity.memoryMb.used)} used of ${mb(capacity.memoryMb.total)}), so a rollback could not fit what leaves it`,
    }
  }
  if (free < need) {
    return {
      ...base,
      freeMemoryMb: free,
      ok: false,
      message: `no way back: ${plan.from} has ${mb(free)} free, and restarting the ${plural(Math.min(maxInFlight, footprints.length), 'app')} in flight there takes up to ${mb(need)}`,
    }
  }
  return {
    ...base,
    freeMemoryMb: free,
    ok: true,
    message: `the way back exists: ${plan.from} has ${mb(free)} free, room to restart the ${plural(Math.min(maxInFlight, footprints.length), 'app')} in flight (up to ${mb(need)})`,
  }
}

function mb(value: number): string {
  return value >= 10_240 ? `${(value / 1024).toFixed(1)} GB` : `${value} MB`
}

function plural(n: number, word: string): string {
  return n === 1 ? `${n} ${word}` : `${n} ${word}s`
}
