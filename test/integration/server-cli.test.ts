// `cfctl server` as an operator runs it: a child process from the entry point the CLI tests use (bin/run.js
// over a fresh build, as `npm test` leaves it, else bin/dev.js), read through what it prints, used over HTTP,
// then stopped with a signal.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliEntry } from '../cli/run-cli.js'
import { api, tokenFor } from './support.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const children: ChildProcess[] = []

function cfctl(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [...cliEntry(), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  })
  children.push(child)
  return child
}

interface Finished {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function finished(child: ChildProcess): Promise<Finished> {
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk
  })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** Resolves with stdout so far once `pattern` appears in it; rejects if the process ends first. */
function printed(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const onData = (chunk: Buffer) => {
      out += chunk
      const match = out.match(pattern)
      if (match) {
        child.stdout!.off('data', onData)
        resolve(match)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk
    })
    child.on('close', (code) =>
      reject(new Error(`cfctl server exited ${code} before printing ${pattern}: ${out}${err}`)),
    )
  })
}

afterAll(() => {
  // A failed assertion must not leave a server behind (per file, not per test: some tests run concurrently).
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

describe('cfctl server', () => {
  it('prints its API URL, router URL and logins, serves the CC, and exits 0 soon after SIGTERM', async () => {
    const child = cfctl(['server', '--port', '0', '--router-port', '0', '--speed', '100'])
    const [, apiUrl, routerUrl] = await printed(
      child,
      /API:\s+(http:\/\/127\.0\.0\.1:\d+)\s*\nRouter:\s+(http:\/\/127\.0\.0\.1:\d+)[\s\S]*Logins:.*\n/,
    )
    const token = await tokenFor(apiUrl!, 'admin', 'admin')
    const apps = await api(apiUrl!, '/v2/apps', token)
    expect(apps.status).toBe(200)
    expect(apps.body.total_results).toBeGreaterThan(0)
    const info = await api(apiUrl!, '/v2/info', null)
    expect(info.body.x_cfctl_router_url).toBe(routerUrl)

    const done = finished(child)
    const signalled = performance.now()
    child.kill('SIGTERM')
    const result = await done
    expect(result.signal).toBeNull()
    expect(result.code).toBe(0)
    expect(performance.now() - signalled).toBeLessThan(3_000)
    expect(result.stderr).toContain('SIGTERM: stopping the foundation')
  }, 30_000)

  // Each case is a short-lived process of its own, so they run side by side.
  describe.concurrent('bad flags: one line naming the flag, no stack, exit 2', () => {
    let dir: string
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'cfctl-server-cli-'))
    })
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    const cases: Array<[string, () => string[], RegExp]> = [
      ['an admin user without a password', () => ['--admin-user', 'nocolon'], /--admin-user takes USER:PASSWORD/],
      ['a seed file that does not exist', () => ['--seed', join(dir, 'nosuchfile')], /--seed: .*cannot read it/],
      [
        'a seed file that is not JSON',
        () => {
          const file = join(dir, 'broken.json')
          writeFileSync(file, '{"orgs": [')
          return ['--seed', file]
        },
        /--seed: .*not valid JSON/,
      ],
      ['a speed below 1', () => ['--speed', '0'], /--speed: /],
      ['a port out of range', () => ['--port', '70000'], /--port: /],
      ['a flag that does not exist', () => ['--no-such-flag'], /--no-such-flag/],
    ]

    it.each(cases)(
      '%s',
      async (_what, args, message) => {
        const result = await finished(cfctl(['server', ...args()]))
        expect(result.code).toBe(2)
        const lines = result.stderr.trim().split('\n')
        expect(lines).toHaveLength(2)
        expect(lines[0]).toMatch(/^error: /)
        expect(lines[0]).toMatch(message)
        expect(lines[1]).toMatch(/^hint: /)
        expect(result.stderr).not.toMatch(/^\s+at /m)
        expect(result.stdout).toBe('')
      },
      20_000,
    )
  })

  it('exits 1, naming the flag, when the port is taken', async () => {
    const first = cfctl(['server', '--port', '0', '--router-port', '0'])
    const [, port] = await printed(first, /API:\s+http:\/\/127\.0\.0\.1:(\d+)/)
    const second = await finished(cfctl(['server', '--port', port!, '--router-port', '0']))
    expect(second.code).toBe(1)
    expect(second.stderr.trim()).toBe(`error: --port: 127.0.0.1:${port} is already in use`)
    const done = finished(first)
    first.kill('SIGINT')
    expect((await done).code).toBe(0)
  }, 30_000)
})
