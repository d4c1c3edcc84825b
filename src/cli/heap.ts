// What a long-running command does with its heap once its state is built. bin/run.js starts `cfctl server`
// and `cfctl dashboard` with --expose-gc (bin/heap-flags.js); run any other way, this does nothing.

type Collect = (options?: {
  type?: 'major' | 'minor'
  execution?: 'sync' | 'async'
  flavor?: 'regular' | 'last-resort'
}) => void

/**
 * One full, compacting collection: what building the state left behind (a parsed seed, placement batches,
 * tables that grew by doubling) goes, and V8 hands the emptied pages back to the system. Without it they stay
 * resident until V8's next full collection, which a busy server may not reach for hours. Costs one pause of
 * a few hundred milliseconds at 250,000 instances; call it once, after the API answers.
 */
export function releaseStartupGarbage(): void {
  const collect = (globalThis as { gc?: Collect }).gc
  collect?.({ type: 'major', execution: 'sync', flavor: 'last-resort' })
}

/**
 * releaseStartupGarbage, once the API has had a moment to answer: run as soon as the foundation is built, the
 * collection (seconds on a loaded machine) stood between the listening socket and the first answer, which is
 * what `server.boot_*_ms` times and what a client started beside the server waits for.
 */
export function releaseStartupGarbageSoon(afterMs = 1_000): void {
  setTimeout(releaseStartupGarbage, afterMs).unref()
}
