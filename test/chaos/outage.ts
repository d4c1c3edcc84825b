// The foundation killed with SIGKILL mid-migration and started again on its data file after an outage: the
// scenario both outage tests run. Real seconds: the CLI's retry budget (4 retries, about 4 s of backoff) and
// --outage-wait are real time whatever the engine's --speed, so the outages are the issue's 15 s and 40 s.
import { expect } from 'vitest'
import {
  anAdminAt,
  aTempDir,
  FLEET_ORG,
  type Json,
  mulberry32,
  StreamedCli,
  writeSeedFile,
} from '../migration/support.js'
import {
  expectAppsRunningPerCc,
  expectJournalMatchesCc,
  flagChangesProblem,
  flipHistogram,
  journalOf,
  printFigures,
  ServerProcess,
} from './support.js'

const APPS = 60

export interface OutageScenario {
  outageMs: number
  /** --outage-wait; shorter than the outage: the run pauses (exit 3) and `migrate --resume` finishes it. */
  outageWait?: string
  seed: number
}

export async function migrateThroughFoundationRestart(scenario: OutageScenario): Promise<void> {
  const random = mulberry32(scenario.seed)
  const dir = aTempDir()
  const server = await ServerProcess.create(writeSeedFile(dir, { apps: APPS }), dir, 20)
  await server.start()
  try {
    const admin = await anAdminAt(server.apiUrl)
    const args = ['migrate', '--to', 'diego', '--org', FLEET_ORG, '--max-in-flight', '6', '--probe-interval', '200ms']
    if (scenario.outageWait) args.push('--outage-wait', scenario.outageWait)
    const cli = new StreamedCli(admin, [...args, '--yes', '--json'])
    const killAfter = 5 + Math.floor(random() * 20)
    const verified = (_: Json, i: number) =>
      cli.lines.slice(0, i + 1).filter((e) => e.type === 'step-verified').length >= killAfter
    expect(await cli.waitFor(verified), cli.stderr).toBe(true)
    await server.kill('SIGKILL')
    const killedAt = Date.now()
    await new Promise((resolve) => setTimeout(resolve, scenario.outageMs))
    await server.start()
    const first = await cli.exited
    const id = cli.lines.find((e) => typeof e.migrationId === 'string')!.migrationId as string
    let runs = 1
    let last = cli
    if (scenario.outageWait) {
      expect(first.code, cli.stderr).toBe(3)
      expect(cli.lines.at(-1)).toMatchObject({
        type: 'summary',
        state: 'paused',
        pausedBy: 'cc-unreachable',
        failures: [],
      })
      last = new StreamedCli(admin, ['migrate', '--resume', id, '--json'])
      runs++
      await last.exited
    }
    expect(last.lines.at(-1), last.stderr).toMatchObject({
      type: 'summary',
      state: 'completed',
      exitCode: 0,
      failures: [],
    })
    const down = cli.lines.filter((e) => e.type === 'cc-unreachable').length

    const token = await server.adminToken()
    const apps = await expectAppsRunningPerCc(server, token)
    const fleet = [...apps.values()]
    expect(fleet).toHaveLength(APPS)
    for (const app of fleet) expect(app.entity.diego, app.entity.name).toBe(true)
    const changes = server.flagChanges(() => false)
    const problems = fleet
      .map((app) => [app.entity.name, flagChangesProblem(false, changes.get(app.metadata.guid) ?? [])])
      .filter(([, problem]) => problem)
    expect(problems).toEqual([])
    for (const app of fleet) expect(changes.get(app.metadata.guid), app.entity.name).toEqual([true])
    expectJournalMatchesCc(await journalOf(admin, id), (guid) => apps.get(guid)!.entity.diego)

    printFigures({
      scenario: `foundation killed -9, down ${scenario.outageMs / 1000} s${scenario.outageWait ? `, --outage-wait ${scenario.outageWait}` : ''}`,
      seed: scenario.seed,
      runs,
      kills: 1,
      faults: 1,
      apps: fleet.length,
      flipsPerApp: flipHistogram(fleet.map((app) => changes.get(app.metadata.guid) ?? [])),
      killedAfterVerified: killAfter,
      outageSeenMs: Date.now() - killedAt,
      ccUnreachableEvents: down,
      serverStarts: server.starts,
    })
  } finally {
    await server.kill('SIGTERM')
  }
}
