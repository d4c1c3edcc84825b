// Builders shared by the Diego tests: small, readable arrangements of cells, apps and BBS records.
import type { AppSpec } from '../../../src/scheduler/backend.js'
import { Bbs, type CellSpec, type DesiredLrp, validateCellSpec } from '../../../src/scheduler/diego/bbs.js'
import { desiredLrpFrom } from '../../../src/scheduler/diego/converge.js'
import { DEFAULT_RESTART_POLICY } from '../../../src/scheduler/diego/restart-calculator.js'

export function aCellSpec(id: string, overrides: Partial<CellSpec> = {}): CellSpec {
  return { id, zone: 'z1', memoryMb: 16_384, diskMb: 65_536, containers: 250, ...overrides }
}

export function anApp(appGuid: string, overrides: Partial<AppSpec> = {}): AppSpec {
  return {
    appGuid,
    name: appGuid,
    version: 'v1',
    instances: 1,
    memoryMb: 512,
    diskMb: 1024,
    stack: 'cflinuxfs4',
    routes: [`${appGuid}.apps.internal`],
    ...overrides,
  }
}

export function aDesiredLrp(appGuid: string, overrides: Partial<AppSpec> = {}): DesiredLrp {
  return desiredLrpFrom(anApp(appGuid, overrides))
}

export function aBbs(cells: CellSpec[] = [aCellSpec('cell-1')]): Bbs {
  const bbs = new Bbs()
  for (const spec of cells) bbs.addCell(validateCellSpec(spec, 5_000))
  return bbs
}

/** Desires the LRP and runs each of its instances on the given cell. */
export function runningOn(bbs: Bbs, desired: DesiredLrp, cellId: string, now = 0): void {
  bbs.desireLrp(desired)
  for (let index = 0; index < desired.instances; index++) {
    const lrp = bbs.createUnclaimed(desired.processGuid, index, now)
    bbs.claim(lrp, bbs.cell(cellId)!, now)
    bbs.start(lrp, now)
  }
}

export const restartPolicy = DEFAULT_RESTART_POLICY
