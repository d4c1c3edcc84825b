// Runs cfctl as a user does, as its own process, with a private CFCTL_HOME and HOME so no real config is
// read or written. The process is the installed entry point, bin/run.js over dist/, when the build is newer
// than every source (as `npm test` leaves it: scripts/with-node builds first); otherwise bin/dev.js over the
// TypeScript sources, so that no build is needed. Both run the same commands; bin/run.js starts in about a
// third of the time (no TypeScript loader, a manifest instead of importing every command, Node's compile cache).
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

let entry: string[] | undefined

/** The node arguments that start cfctl: bin/run.js when dist/ is built from the current sources, else bin/dev.js. */
export function cliEntry(): string[] {
  entry ??= builtIsFresh() ? [join(root, 'bin', 'run.js')] : ['--import', 'tsx', join(root, 'bin', 'dev.js')]
  return entry
}

/** scripts/with-node's test: dist/.built and the manifest exist, and nothing in src/ or the configs is newer. */
function builtIsFresh(): boolean {
  const stamp = join(root, 'dist', '.built')
  if (!existsSync(stamp) || !existsSync(join(root, 'oclif.manifest.json'))) return false
  const built = statSync(stamp).mtimeMs
  const newer = (path: string): boolean => {
    const stat = statSync(path)
    if (stat.isDirectory()) return readdirSync(path).some((name) => newer(join(path, name)))
    return stat.mtimeMs > built
  }
  return !['src', 'package.json', 'tsconfig.json', 'tsconfig.build.json'].some((p) => newer(join(root, p)))
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliHome {
  env: NodeJS.ProcessEnv
  run(args: string[], options?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<CliResult>
}

/** A fresh user: empty CFCTL_HOME, HOME and CF_HOME. */
export function aCliHome(): CliHome {
  const home = mkdtempSync(join(tmpdir(), 'cfctl-home-'))
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    CF_HOME: home,
    CFCTL_HOME: join(home, '.cfctl'),
    NO_COLOR: '1',
  }
  return {
    env,
    run: (args, options = {}) => runCli(args, { ...env, ...options.env }, options.input),
  }
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cliEntry(), ...args], {
      cwd: root,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input ?? '')
  })
}
