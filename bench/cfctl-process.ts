// `cfctl` as a user starts it, for the RSS benches: the built CLI (bin/run.js over dist/) in a process of its
// own, and the resident set of the process in its tree that holds the data. For `server` and `dashboard`
// bin/run.js is a launcher that starts Node again with its heap flags (bin/heap-flags.js) and waits; the
// child does the work. Both RSS figures are read from /proc, so these benches run on Linux only.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const RUN_JS = join(ROOT, 'bin', 'run.js')

/** Why the RSS of a `cfctl` process cannot be measured here, or undefined when it can. */
export function cannotMeasureRss(): string | undefined {
  if (!existsSync(join(ROOT, 'dist', '.built'))) return 'no build: bin/run.js runs dist/ (run `npm run build`)'
  if (!existsSync('/proc/self/status')) return 'RSS is read from /proc/PID/status, which this system has not'
  return undefined
}

/** `node bin/run.js ARGS`, as a user's shell starts it (no flags of ours given to Node). */
export function startCfctl(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [RUN_JS, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] })
}

/** Resident set of a process in MB (VmRSS), or undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]
    return kb === undefined ? undefined : Number(kb) / 1024
  } catch {
    return undefined
  }
}

/** The processes whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // The command name (field 2) is in parentheses and may hold spaces: the parent pid follows its ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) found.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return found
}

export interface CfctlTree {
  /** The process the user started (bin/run.js). */
  launcher: number
  /** The process that runs the command: the launcher's Node child when it relaunched, else the launcher. */
  worker: number
  /** Whether bin/run.js started a child Node (with bin/heap-flags.js's flags) to run the command. */
  relaunched: boolean
}

/** Finds the process that runs the command, waiting up to `ms` for the launcher to start it. */
export async function cfctlTree(launcher: number, ms = 2_000): Promise<CfctlTree> {
  const until = performance.now() + ms
  for (;;) {
    const children = childrenOf(launcher)
    if (children.length === 1) return { launcher, worker: children[0]!, relaunched: true }
    if (children.length > 1) throw new Error(`bin/run.js (${launcher}) has ${children.length} children`)
    if (performance.now() > until) return { launcher, worker: launcher, relaunched: false }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Sends SIGTERM and waits for the process to end. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const closed = new Promise((resolve) => child.once('close', resolve))
  child.kill('SIGTERM')
  await closed
}

/** The API address a starting `cfctl server` prints (its `API:` line); rejects if it exits first. */
export function apiUrlOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
      const found = /^API:\s+(\S+)/m.exec(out)
      if (found) resolve(found[1]!)
    })
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')))
    child.once('close', (code) =>
      reject(new Error(`cfctl server exited ${code} before its API: ${err.trim().slice(0, 500)}`)),
    )
  })
}
