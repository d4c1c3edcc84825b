// Runs cfctl as a user does, as its own process (through bin/dev.js, so no build is needed), with
// a private CFCTL_HOME and HOME so no real config is read or written.
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

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
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bin', 'dev.js'), ...args], {
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
