// bin/run.js and bin/dev.js refuse a Node without an unflagged node:sqlite at once, naming what to use,
// instead of failing inside a command with "No such built-in module: node:sqlite".
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { unsupportedNode } from '../../bin/node-check.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

describe('the Node.js version check', () => {
  it.each(['20.20.2', '22.12.0', '23.3.0'])('refuses Node.js %s, which has no unflagged node:sqlite', (version) => {
    expect(unsupportedNode(version)?.message).toMatch(/^cfctl needs Node.js 22.13 or newer .*this is Node.js /)
  })

  it.each(['22.13.0', '23.4.0', '24.0.0', '25.1.0'])('accepts Node.js %s', (version) => {
    expect(unsupportedNode(version)).toBeUndefined()
  })

  it.each([['bin/run.js'], ['bin/dev.js']])('%s on Node.js 20 says what to use and exits 1', (entry) => {
    // This Node, made to report 20.20.2 before the entry point runs (the machine's own Node 20 does the same).
    const asNode20 = `data:text/javascript,Object.defineProperty(process.versions,'node',{value:'20.20.2'})`
    const result = spawnSync(process.execPath, ['--import', asNode20, join(root, entry), 'apps'], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: root, NO_COLOR: '1' },
    })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('this is Node.js 20.20.2')
    expect(result.stderr).toContain('hint:  put Node.js 24 first on PATH')
    expect(result.stderr).not.toContain('node:sqlite"')
    expect(result.stdout).toBe('')
  })

  it('answers in the JSON error shape on stdout under --json', () => {
    const asNode20 = `data:text/javascript,Object.defineProperty(process.versions,'node',{value:'20.20.2'})`
    const result = spawnSync(process.execPath, ['--import', asNode20, join(root, 'bin', 'run.js'), 'apps', '--json'], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: root, NO_COLOR: '1' },
    })
    expect(result.status).toBe(1)
    expect(JSON.parse(result.stdout).error).toMatchObject({
      message: expect.stringContaining('this is Node.js 20.20.2'),
      exit_code: 1,
    })
  })
})
