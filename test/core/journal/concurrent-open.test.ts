import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

// Several cfctl started at once on a user's first run (a CI job that migrates some orgs in parallel) all open
// ~/.cfctl/journal.db before any of them made it. Each must open it; none may fail with "database is locked".
// Real processes: SQLite's file locks are what is contended, and one thread's connections never race.
const JOURNAL = pathToFileURL(join(import.meta.dirname, '../../../dist/core/journal/index.js')).href
const PROCESSES = 6
const ROUNDS = 5

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** Opens and closes the journal at `path` in a Node process of its own, all at `at` (epoch ms); its output. */
function openAt(path: string, at: number): Promise<string> {
  const script = `
    const { Journal } = await import(${JSON.stringify(JOURNAL)})
    while (Date.now() < ${at});
    try { Journal.open(${JSON.stringify(path)}).close(); console.log('opened') }
    catch (error) { console.log('failed: ' + error.message) }`
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk
    })
    child.on('error', reject)
    child.on('close', () => resolve(out.trim()))
  })
}

describe('a fresh journal opened by several cfctl at once', () => {
  it('opens in every one of them', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'cfctl-journal-race-'))
      dirs.push(dir)
      const path = join(dir, 'home', 'journal.db')
      const at = Date.now() + 800
      const outcomes = await Promise.all(Array.from({ length: PROCESSES }, () => openAt(path, at)))
      expect(outcomes).toEqual(Array(PROCESSES).fill('opened'))
    }
  })
})
