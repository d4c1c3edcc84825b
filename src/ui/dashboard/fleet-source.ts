// Where the dashboard's heavy reads happen: the apps and capacity of the target, and the step states of the
// watched migration. The apps are read on this thread: a page at a time, only the fields the table shows
// (read-fleet.ts), each page a millisecond or two between frames. A worker thread would cost a second V8
// heap with its own copy of the CC client's modules, more than the whole fleet. The step states of a
// journal file (50,000 rows at once) are read in a worker thread per read (poll-worker.ts).
import { Worker } from 'node:worker_threads'
import type { CcClient } from '../../core/cc/index.js'
import type { Journal } from '../../core/journal/journal.js'
import type { Fleet } from './fleet.js'
import type { PollRequest } from './poll-worker.js'
import { type FleetPoll, readFleet } from './read-fleet.js'
import { type CompactSteps, compactSteps } from './steps.js'

export type { FleetPoll }

export interface FleetSource {
  poll(): Promise<FleetPoll>
  /** Stops the reads under way (their promises reject). */
  close?(): Promise<void>
}

/** Reads a migration's step states. */
export type StepsSource = (migrationId: string) => Promise<CompactSteps>

export function fleetSourceOf(client: CcClient): FleetSource {
  let previous: Fleet | undefined
  return {
    poll: async () => {
      const poll = await readFleet(client, { previous })
      previous = poll.fleet
      return poll
    },
  }
}

export function stepsSourceOf(journal: Journal): StepsSource {
  return async (migrationId) => compactSteps(journal.steps(migrationId))
}

/**
 * Built, the worker is poll-worker.js beside this file. Run from the sources (bin/dev.js), it is the .ts
 * file, and a worker does not inherit a TypeScript loader registered in-process, so it gets tsx's.
 */
const FROM_SOURCES = import.meta.url.endsWith('.ts')
const WORKER_URL = new URL(FROM_SOURCES ? './poll-worker.ts' : './poll-worker.js', import.meta.url)
const WORKER_EXEC_ARGV =
  FROM_SOURCES && !process.execArgv.some((arg) => arg.includes('tsx'))
    ? [...process.execArgv, '--import', 'tsx']
    : undefined

/** The worker's young generation: small, since everything it makes dies with it. */
const WORKER_YOUNG_GENERATION_MB = 8

type FromWorker = { type: 'steps'; steps: CompactSteps } | { type: 'failed'; message: string }

/** Workers running a read, so closing ends them. */
const running = new Set<Worker>()

/** One read at a time: two workers of 50,000 rows each at once would double the process's peak. */
let queue: Promise<unknown> = Promise.resolve()

/**
 * The worker's old generation, in MB, for a read of about `rows` rows: tight, so the worker collects its
 * garbage early instead of growing (the process's peak is this worker on top of the dashboard), with room
 * for its modules and about 1 KB a row above 40,000. A read that runs out is tried again with twice as much.
 */
export function oldGenerationFor(rows: number): number {
  return Math.max(40, Math.ceil(20 + rows / 2048))
}

const MAX_OLD_GENERATION_MB = 4096

/**
 * Runs one request in a worker of its own, after the reads before it, and ends the worker with the
 * answer; once more, with twice the memory, when the worker ran out of it.
 */
function inWorker(request: PollRequest, rows: number): Promise<FromWorker> {
  const attempt = async (oldMb: number): Promise<FromWorker> => {
    try {
      return await readInWorker(request, oldMb)
    } catch (error) {
      const outOfMemory = (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
      if (!outOfMemory || oldMb * 2 > MAX_OLD_GENERATION_MB) throw error
      return attempt(oldMb * 2)
    }
  }
  const turn = queue.then(() => attempt(oldGenerationFor(rows)))
  queue = turn.catch(() => {})
  return turn
}

function readInWorker(request: PollRequest, oldMb: number): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, {
      ...(WORKER_EXEC_ARGV ? { execArgv: WORKER_EXEC_ARGV } : {}),
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB, maxOldGenerationSizeMb: oldMb },
    })
    running.add(worker)
    let settled = false
    const finish = (settle: () => void) => {
      if (settled) return
      settled = true
      running.delete(worker)
      void worker.terminate()
      settle()
    }
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'failed') finish(() => reject(new Error(message.message)))
      else finish(() => resolve(message))
    })
    worker.on('error', (error) => finish(() => reject(error)))
    worker.on('exit', (code) => finish(() => reject(new Error(`the read stopped (worker exit ${code})`))))
    worker.postMessage(request)
  })
}

/** Ends the reads under way in workers (their promises reject): the dashboard is closing. */
export async function stopWorkerReads(): Promise<void> {
  await Promise.all([...running].map((worker) => worker.terminate()))
}

/** Step states read by a worker from the journal file (a journal in memory is read on this thread). */
export function stepsInWorker(journal: Journal): StepsSource {
  if (journal.path === ':memory:' || journal.path.startsWith('file:')) return stepsSourceOf(journal)
  return async (migrationId) => {
    const answer = await inWorker({ type: 'steps', journalPath: journal.path, migrationId }, 0)
    if (answer.type !== 'steps') throw new Error(`the read of the steps answered ${answer.type}`)
    return answer.steps
  }
}
