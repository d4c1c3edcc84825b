// When is a moved app healthy: every desired index RUNNING on the backend its flag points at. Pure.
import type { PortInstance } from './port.js'

export interface InstancesHealth {
  healthy: boolean
  running: number
  desired: number
  /** `2 of 3 instances RUNNING; index 1 CRASHED (insufficient resources: memory)`. */
  summary: string
}

export function instancesHealth(instances: readonly PortInstance[], desired: number): InstancesHealth {
  const byIndex = new Map<number, PortInstance>()
  for (const instance of instances) {
    const seen = byIndex.get(instance.index)
    // With two records for one index (an evacuating copy), either one running serves the index.
    if (!seen || instance.state === 'RUNNING') byIndex.set(instance.index, instance)
  }
  const notRunning: string[] = []
  let running = 0
  for (let index = 0; index < desired; index++) {
    const instance = byIndex.get(index)
    if (instance?.state === 'RUNNING') running++
    else {
      const state = instance?.state ?? 'DOWN'
      notRunning.push(`index ${index} ${state}${instance?.details ? ` (${instance.details})` : ''}`)
    }
  }
  const head = `${running} of ${desired} instance${desired === 1 ? '' : 's'} RUNNING`
  const shown = notRunning.slice(0, 3).join(', ') + (notRunning.length > 3 ? `, ${notRunning.length - 3} more` : '')
  return { healthy: running === desired, running, desired, summary: notRunning.length ? `${head}; ${shown}` : head }
}
