// What loading the foundation costs a `cfctl server` start: its modules pull in no HTTP client. An ESM import of
// node:http reads all its exports, and reading WebSocket, CloseEvent and MessageEvent loads Node's bundled
// undici (with http2), which the server never uses.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The built-in modules a fresh Node has loaded after importing `module` (through tsx), of those matching `pattern`. */
function loadedAfterImport(module: string, pattern: RegExp): Promise<string[]> {
  const script = `await import(${JSON.stringify(join(root, module))}); process.stdout.write(JSON.stringify(process.moduleLoadList))`
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`node exited ${code}: ${err}`))
      else resolve((JSON.parse(out) as string[]).filter((name) => pattern.test(name)))
    })
  })
}

describe('loading the embedded foundation', () => {
  it("loads no HTTP client: neither Node's undici nor http2", async () => {
    expect(await loadedAfterImport('src/scheduler/foundation.ts', /undici|http2/)).toEqual([])
  })
})
