import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Journal } from '../../../src/core/journal/index.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function aDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cfctl-journal-mode-'))
  dirs.push(dir)
  return dir
}

const modeOf = (path: string) => statSync(path).mode & 0o777

describe('the journal file', () => {
  it('is created 0600 (SQLite alone would make it 0644), and its WAL files too', () => {
    const path = join(aDir(), 'home', 'journal.db')
    const journal = Journal.open(path)
    for (const companion of [`${path}-wal`, `${path}-shm`])
      if (existsSync(companion)) expect(modeOf(companion)).toBe(0o600)
    journal.close()
    expect(modeOf(path)).toBe(0o600)
  })

  it('is tightened to 0600 when an older run left it readable by others', () => {
    const path = join(aDir(), 'journal.db')
    writeFileSync(path, '')
    chmodSync(path, 0o644)
    Journal.open(path).close()
    expect(modeOf(path)).toBe(0o600)
  })
})
