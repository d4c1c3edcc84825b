// The step states of a migration (50,000 journal rows), read in a worker thread of its own that ends with the
// read: on the thread that draws they would hold up keys and frames for a second and leave its heap swollen
// with their garbage; here they run with a small young generation, post a compact answer, and their memory
// goes when the worker does.
//
// In:  { type: 'steps', journalPath, migrationId }
// Out: { type: 'steps', steps } | { type: 'failed', message }
import { parentPort } from 'node:worker_threads'

// The read imports what it needs when it starts (the journal only when the lean read cannot serve): every
// module a worker loads is compiled and kept in its own heap, on top of the dashboard's.

export type PollRequest = { type: 'steps'; journalPath: string; migrationId: string }

const port = parentPort
if (!port) throw new Error('poll-worker runs as a worker thread')

port.on('message', (request: PollRequest) => {
  answer(steps(request), (result) => ({ type: 'steps', steps: result }))
})

function answer<T>(work: Promise<T>, message: (result: T) => object): void {
  work.then(
    (result) => port!.postMessage(message(result)),
    (error: unknown) =>
      port!.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) }),
  )
}

async function steps(request: PollRequest) {
  const { compactSteps, readStepStates } = await import('./steps.js')
  const lean = readStepStates(request.journalPath, request.migrationId)
  if (lean) return lean
  const { Journal } = await import('../../core/journal/journal.js')
  const journal = Journal.open(request.journalPath)
  try {
    return compactSteps(journal.steps(request.migrationId))
  } finally {
    journal.close()
  }
}
