// The long-running commands (`cfctl server`, `cfctl dashboard`) hold a whole foundation or a fleet of
// 50,000 apps for hours. V8 grows its young generation to 128 MB on such a heap by default, which is
// most of what the process holds beyond its data; 8 MB of young generation
// (--max-semi-space-size=4: two 4 MB semi-spaces) keeps RSS near what the data needs, for the price
// of more, smaller scavenges. V8 reads that flag only when the process starts, so for those commands
// this launcher starts Node again with it: the same node binary, the same script and arguments, the
// terminal inherited, signals passed on and the exit code or signal handed back. Every other command
// runs in this process as before, so short commands (`cfctl --version`, `cfctl apps`) pay nothing.
// --expose-gc lets such a command collect once after it has built its state (src/cli/heap.ts): starting
// a foundation of 250,000 instances leaves tens of MB of garbage (the seed, the auction's batches, grown
// tables) that V8 would otherwise keep committed until its next full collection, which a server that
// never goes idle may not reach for a long time.
// Plain JavaScript with no imports, like node-check.js (child_process is loaded only to relaunch).
// CFCTL_HEAP_FLAGS=0 turns it off.

export const HEAP_FLAGS = ['--max-semi-space-size=4', '--expose-gc']
const LONG_RUNNING = new Set(['server', 'dashboard'])
const RELAUNCHED = 'CFCTL_HEAP_FLAGS_SET'

// glibc's malloc (Linux) raises its mmap threshold, up to 32 MB, each time a block that had a mapping of its own
// is freed; blocks of that size then come from its arenas, and once freed stay resident there. Booting a
// foundation frees a few such blocks (scrypt's 16 MB for the seeded users' passwords, on a worker thread) and
// the process kept ~35 MB it no longer used (250,000 instances: RSS 196 -> 161 MB). Held at glibc's default
// of 128 KiB, large blocks keep their own mappings and go back to the system when freed. Other C libraries
// ignore the variable; a value the user set is kept.
const MALLOC_DEFAULTS = { MALLOC_MMAP_THRESHOLD_: '131072' }

/** The environment of the child that runs the command. */
export function childEnv(env = process.env) {
  return { ...MALLOC_DEFAULTS, ...env, [RELAUNCHED]: '1' }
}

/** The node arguments to start again with, or undefined when this process should run the command itself. */
export function relaunchArgs(argv = process.argv, execArgv = process.execArgv, env = process.env) {
  if (!LONG_RUNNING.has(argv[2] ?? '')) return undefined
  if (env[RELAUNCHED] === '1' || env.CFCTL_HEAP_FLAGS === '0') return undefined
  // Whoever started Node with their own young-generation size keeps it.
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)]
  if (given.some((arg) => /^--(max-semi-space-size|max_semi_space_size|semi-space)/.test(arg))) return undefined
  return [...HEAP_FLAGS, ...execArgv, ...argv.slice(1)]
}

/**
 * For a long-running command, runs it in a child Node with HEAP_FLAGS and answers true: this process then
 * only waits, passes signals on, and ends as the child ended. Answers false for every other command.
 */
export function relaunchWithHeapFlags() {
  if (process.env[RELAUNCHED] === '1') endWithLauncher()
  const args = relaunchArgs()
  if (args === undefined) return false
  const { spawn } = process.getBuiltinModule('node:child_process')
  // The IPC channel is how the child knows this process is gone, however it went (see endWithLauncher).
  const child = spawn(process.execPath, args, {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: childEnv(),
  })
  // A terminal's Ctrl-C reaches the whole foreground process group, the child included: passing SIGINT on
  // as well would deliver it twice. From anyone else (kill -INT, a supervisor) it reaches this process only.
  const forward = (signal) => () => {
    if (signal === 'SIGINT' && process.stdin.isTTY) return
    child.kill(signal)
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward(signal))
  child.on('error', (error) => {
    process.stderr.write(`error: cannot start ${process.execPath}: ${error.message}\n`)
    process.exit(1)
  })
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal)
      process.kill(process.pid, signal)
      return
    }
    process.exit(code ?? 1)
  })
  return true
}

/**
 * In the child: when the launcher goes, even by SIGKILL, which it cannot pass on, its end of the IPC channel
 * closes and the channel disconnects (a pipe on POSIX, a named pipe on Windows: every platform Node runs
 * on). The child then stops as on SIGTERM (`cfctl server` closes its data file cleanly), and exits within
 * a few seconds even if that hangs, instead of running on orphaned, holding its ports and data file. The
 * channel is unref'd: it keeps no command alive that would otherwise end.
 */
function endWithLauncher() {
  const channel = process.channel
  if (!channel) return
  channel.unref()
  process.once('disconnect', () => {
    setTimeout(() => process.exit(1), 5_000).unref()
    process.kill(process.pid, 'SIGTERM')
  })
}
