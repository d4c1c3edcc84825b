// A migration's process must not end while the migration runs. The clocks' timers are unref'd (a
// heartbeat or a poll must not keep a finished cfctl alive), so a run that waits on one of them with no
// socket open (a backoff through a CC outage, a canary's hold, a journal's grouped commit) would leave Node
// with nothing to do: it exits 13 ("unsettled top-level await") mid-migration. One ref'd timer held for the
// length of the work rules that out, whatever the work waits on.

/** Resolves as `work` does, keeping the process alive until it settles. */
export async function keepingAlive<T>(work: Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1 << 30)
  try {
    return await work
  } finally {
    clearInterval(hold)
  }
}
