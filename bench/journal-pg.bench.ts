// The journal on PostgreSQL (a throwaway server from test/support/postgres.ts, fsync on, on loopback).
//   journal.pg_step_ms_p50   the journal's cost of one migration step as the runner writes it: the intent
//                            (pending -> flipping, with its event), the lease read before the PUT, the flip
//                            (-> verifying) and the verified app (-> done), each write fenced by the lease;
//                            p50 over BENCH_PG_STEPS (2,000) steps, one after another
//   migrate.apps_per_sec_pg  migrate.apps_per_sec (migrate.bench.ts) with the PostgreSQL journal, median of its runs
// Without PostgreSQL installed, both say why and are left out.
import { FakeClock } from '../src/clock.js'
import { Journal } from '../src/core/journal/journal.js'
import { freshSchema, startPostgres, type TestPostgres } from '../test/support/postgres.js'
import { percentile, type Results } from './lib.js'
import { migrateOnPostgres } from './migrate.bench.js'

const STEPS = Number(process.env.BENCH_PG_STEPS ?? 2_000)

export default async function journalPgBench(results: Results): Promise<void> {
  let server: TestPostgres
  try {
    server = await startPostgres({ fsync: true })
  } catch (error) {
    results.skip('journal.pg_step_ms_p50', (error as Error).message)
    results.skip('migrate.apps_per_sec_pg', (error as Error).message)
    return
  }
  try {
    await stepCost(results, server)
    await migrateOnPostgres(results, () => freshSchema(server))
  } finally {
    await server.destroy()
  }
}

async function stepCost(results: Results, server: TestPostgres): Promise<void> {
  const journal = Journal.open(await freshSchema(server), { clock: new FakeClock(Date.now()) })
  try {
    const target = 'https://api.bench.test'
    const { id } = journal.createMigration({
      target,
      parameters: {
        to: 'diego',
        rate: null,
        maxInFlight: 1,
        timeoutMs: 60_000,
        maxFailures: '0',
        canary: 0,
        canaryWaitMs: null,
        probeIntervalMs: 1_000,
        verifyIntervalMs: 1_000,
        selection: {},
      },
      steps: Array.from({ length: STEPS }, (_, i) => ({
        appGuid: `guid-${i}`,
        appName: `app-${i}`,
        org: 'bench',
        space: 'space',
        appState: 'STARTED' as const,
        instances: 1,
        memoryMb: 64,
        canary: false,
        originalDiego: false,
        targetDiego: true,
      })),
    })
    journal.acquireLock(target, id, { pid: process.pid, hostname: 'bench', token: 'bench' })
    const ms: number[] = []
    for (let i = 0; i < STEPS; i++) {
      const ref = { appGuid: `guid-${i}`, appName: `app-${i}`, position: i }
      const start = performance.now()
      journal.transitionStep(id, i, 'flipping', {}, { type: 'step-started', attempt: 1, ...ref })
      journal.checkLease(id)
      journal.transitionStep(
        id,
        i,
        'verifying',
        { flipped: true, attempts: 1 },
        { type: 'step-flipped', diego: true, how: 'flipped', ...ref },
      )
      journal.transitionStep(id, i, 'done', {}, { type: 'step-verified', ms: 1, ...ref })
      ms.push(performance.now() - start)
    }
    results.record(
      'journal.pg_step_ms_p50',
      percentile(ms, 50),
      'ms',
      `p50 of ${STEPS.toLocaleString('en')} steps (p90 ${percentile(ms, 90).toFixed(2)} ms): intent, lease read, flip, verified, 3 fenced transactions with their events, PostgreSQL ${'on loopback'} with fsync on, through the worker-thread facade; goal <= 5`,
    )
  } finally {
    journal.close()
  }
}
