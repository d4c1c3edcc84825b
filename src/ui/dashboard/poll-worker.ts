// The dashboard's heavy reads, each run in a worker thread of its own that ends with it: the apps and the
// capacity (50,000 apps are 500 pages of JSON to fetch, parse and check), and the step states of a
// migration (50,000 journal rows). On the thread that draws they would hold up keys and frames for seconds
// and leave its heap swollen with their garbage; here they run with a small young generation, post a
// compact answer, and their memory goes when the worker does.
//
// In:  { type: 'fleet', apiUrl, skipSslValidation, token } | { type: 'steps', journalPath, migrationId }
//      { type: 'token', token } (the answer to a refresh)
// Out: { type: 'fleet', fleet, capacity } | { type: 'steps', steps } | { type: 'failed', message } | { type: 'refresh' }
import { parentPort } from 'node:worker_threads'

// Each read imports what it needs when it starts: a worker lives for one read, and one that polls the apps
// has no use for the journal (with the PostgreSQL client behind it), nor one that reads steps for the CC
// client. Every module a worker loads is compiled and kept in its own heap, on top of the dashboard's.

export type PollRequest =
  | { type: 'fleet'; apiUrl: string; skipSslValidation: boolean; token: string }
  | { type: 'steps'; journalPath: string; migrationId: string }
  | { type: 'token'; token: string }

const port = parentPort
if (!port) throw new Error('poll-worker runs as a worker thread')
let refreshed: ((token: string) => void) | undefined

port.on('message', (request: PollRequest) => {
  switch (request.type) {
    case 'token':
      refreshed?.(request.token)
      refreshed = undefined
      return
    case 'fleet':
      answer(fleet(request), (result) => ({ type: 'fleet', ...result }))
      return
    case 'steps':
      answer(steps(request), (result) => ({ type: 'steps', steps: result }))
      return
  }
})

function answer<T>(work: Promise<T>, message: (result: T) => object): void {
  work.then(
    (result) => port!.postMessage(message(result)),
    (error: unknown) =>
      port!.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) }),
  )
}

async function fleet(request: Extract<PollRequest, { type: 'fleet' }>) {
  const [{ CcClient }, { readFleet }] = await Promise.all([import('../../core/cc/index.js'), import('./read-fleet.js')])
  let token = request.token
  const client = new CcClient({
    apiUrl: request.apiUrl,
    skipSslValidation: request.skipSslValidation,
    auth: {
      accessToken: async () => token,
      // The session (and its refresh token) stays with the dashboard: ask it for a new access token.
      refresh: () =>
        new Promise<string>((resolve) => {
          refreshed = (next) => {
            token = next
            resolve(next)
          }
          port!.postMessage({ type: 'refresh' })
        }),
    },
  })
  try {
    return await readFleet(client)
  } finally {
    await client.close()
  }
}

async function steps(request: Extract<PollRequest, { type: 'steps' }>) {
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
