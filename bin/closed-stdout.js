// A reader that stops early (`cfctl apps | head -2`) closes the pipe under cfctl's stdout. cfctl then goes on
// as if stdout were /dev/null: no EPIPE trace, no "unsettled top-level await" (oclif's final flush waits for
// a 'drain' a closed pipe never sends), and the exit code is the command's own. A migration whose reader
// went away is not cut short between a flip and its verification, and exits 0 only if every app moved.

export function treatClosedStdoutAsDevNull() {
  process.stdout.on('error', (error) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error
    process.stdout.write = (_chunk, encoding, callback) => {
      const done = typeof encoding === 'function' ? encoding : callback
      if (done) process.nextTick(done)
      return true
    }
    // Whoever waits for the pipe to drain (oclif's flush) would wait for ever: it is as empty as it gets.
    process.stdout.emit('drain')
  })
}
