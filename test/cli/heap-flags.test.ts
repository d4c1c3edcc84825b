// bin/heap-flags.js: `cfctl server` and `cfctl dashboard` run in a Node started with a small young
// generation; every other command runs in the process the user started, untouched.
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { childEnv, HEAP_FLAGS, relaunchArgs } from '../../bin/heap-flags.js'

const probe = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'heap-probe.js')
const runJs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'run.js')

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Until `check` holds, for at most `ms`; whether it did. */
async function within(ms: number, check: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check()) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function aFreePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

interface Ran {
  code: number | null
  lines: { pid: number; execArgv: string[]; mmapThreshold?: string | null }[]
  pid: number
}

function runProbe(args: string[], env: NodeJS.ProcessEnv = {}, onLine?: (pid: number) => void): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [probe, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { PATH: process.env.PATH, ...env },
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
      if (out.includes('\n')) onLine?.(child.pid!)
    })
    child.on('error', reject)
    child.on('close', (code) =>
      resolve({
        code,
        pid: child.pid!,
        lines: out
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      }),
    )
  })
}

describe('the launcher of the long-running commands', () => {
  it('starts Node again with the heap flags for server and dashboard, with the same script and arguments', () => {
    const argv = ['/usr/bin/node', '/opt/cfctl/bin/run.js', 'server', '--seed', 'large']
    expect(relaunchArgs(argv, [], {})).toEqual([...HEAP_FLAGS, '/opt/cfctl/bin/run.js', 'server', '--seed', 'large'])
    expect(relaunchArgs(['node', 'run.js', 'dashboard'], ['--no-warnings'], {})).toEqual([
      ...HEAP_FLAGS,
      '--no-warnings',
      'run.js',
      'dashboard',
    ])
  })

  it('runs every other command in place, and leaves alone a Node already given a young-generation size', () => {
    for (const command of ['apps', '--version', 'migrate', 'help']) {
      expect(relaunchArgs(['node', 'run.js', command], [], {})).toBeUndefined()
    }
    expect(relaunchArgs(['node', 'run.js'], [], {})).toBeUndefined()
    expect(relaunchArgs(['node', 'run.js', 'server'], ['--max-semi-space-size=64'], {})).toBeUndefined()
    expect(relaunchArgs(['node', 'run.js', 'server'], [], { NODE_OPTIONS: '--max-semi-space-size=2' })).toBeUndefined()
    expect(relaunchArgs(['node', 'run.js', 'server'], [], { CFCTL_HEAP_FLAGS: '0' })).toBeUndefined()
    expect(relaunchArgs(['node', 'run.js', 'server'], [], { CFCTL_HEAP_FLAGS_SET: '1' })).toBeUndefined()
  })

  it('runs `server` in a child Node that has the flags, once', async () => {
    const ran = await runProbe(['server'])
    expect(ran.code).toBe(0)
    expect(ran.lines).toHaveLength(1)
    expect(ran.lines[0]!.pid).not.toBe(ran.pid)
    expect(ran.lines[0]!.execArgv).toEqual(HEAP_FLAGS)
  })

  it("starts the child with glibc's mmap threshold held at its default, unless the user set one", async () => {
    const ran = await runProbe(['server', 'env'])
    expect(ran.lines).toHaveLength(1)
    expect(ran.lines[0]!.pid).not.toBe(ran.pid)
    expect(ran.lines[0]!.mmapThreshold).toBe('131072')
    const own = await runProbe(['server', 'env'], { MALLOC_MMAP_THRESHOLD_: '65536' })
    expect(own.lines[0]!.mmapThreshold).toBe('65536')
    expect(childEnv({ PATH: '/bin' })).toEqual({
      PATH: '/bin',
      MALLOC_MMAP_THRESHOLD_: '131072',
      CFCTL_HEAP_FLAGS_SET: '1',
    })
    // Another command runs in the process the user started, as it was started.
    expect((await runProbe(['apps', 'env'])).lines[0]!.mmapThreshold).toBeNull()
  })

  it('runs another command in the process itself, without the flags', async () => {
    const ran = await runProbe(['apps'])
    expect(ran.code).toBe(0)
    expect(ran.lines).toEqual([{ pid: ran.pid, execArgv: [] }])
  })

  it('passes SIGTERM on to the child and ends with its exit code', async () => {
    const ran = await runProbe(['server', 'wait'], {}, (pid) => process.kill(pid, 'SIGTERM'))
    expect(ran.lines).toHaveLength(1)
    expect(ran.lines[0]!.pid).not.toBe(ran.pid)
    expect(ran.code).toBe(3)
  })

  it('ends the child when the launcher is killed with SIGKILL, which it cannot pass on', async () => {
    const launcher = spawn(process.execPath, [probe, 'server', 'wait'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { PATH: process.env.PATH },
    })
    const line = await new Promise<string>((resolve) => {
      let out = ''
      launcher.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8')
        if (out.includes('\n')) resolve(out)
      })
    })
    const child = JSON.parse(line).pid as number
    expect(child).not.toBe(launcher.pid)
    launcher.kill('SIGKILL')
    try {
      expect(await within(5_000, () => !alive(child)), `child ${child} still running`).toBe(true)
    } finally {
      if (alive(child)) process.kill(child, 'SIGKILL')
    }
  })

  it('kill -9 of `cfctl server` takes the foundation down with it: its API stops answering', async () => {
    const port = await aFreePort()
    const server = spawn(process.execPath, [runJs, 'server', '--port', String(port), '--router-port', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH, NO_COLOR: '1' },
    })
    let stderr = ''
    server.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const answers = () =>
      fetch(`http://127.0.0.1:${port}/v2/info`).then(
        (response) => response.ok,
        () => false,
      )
    try {
      expect(await within(30_000, answers), stderr).toBe(true)
      server.kill('SIGKILL')
      expect(await within(5_000, async () => !(await answers())), 'the API still answers').toBe(true)
    } finally {
      server.kill('SIGKILL')
    }
  }, 60_000)
})
