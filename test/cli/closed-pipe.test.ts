// A reader that stops early (`cfctl apps | head -2`) closes cfctl's stdout: cfctl ends quietly with its own
// exit code, with no EPIPE trace and no "unsettled top-level await" (exit 13).
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { cliEntry } from './run-cli.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Runs cfctl with its stdout a pipe whose reader has already gone. */
function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), 'cfctl-home-'))
  const child = spawn(process.execPath, [...cliEntry(), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: home, CF_HOME: home, CFCTL_HOME: join(home, '.cfctl'), NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.destroy()
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })))
}

describe('a closed stdout', () => {
  it.each([[['--help']], [['apps', '--embedded']], [['apps', '--embedded', '--json']]])(
    'cfctl %j exits 0 without a word',
    async (args) => {
      const result = await withClosedStdout(args)
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
    },
    30_000,
  )
})
