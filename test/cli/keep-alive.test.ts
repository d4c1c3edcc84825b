// A run that waits only on unref'd timers (the clocks' own) must not let Node end the process mid-run.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const keepAlive = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'keep-alive.ts')

function runModule(body: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', body], { encoding: 'utf8' })
}

const waitOnUnrefdTimer = 'new Promise((resolve) => setTimeout(resolve, 300).unref())'

describe('keepingAlive', () => {
  it('keeps the process alive until work that waits only on an unref’d timer settles', () => {
    const result = runModule(
      `const { keepingAlive } = await import(${JSON.stringify(keepAlive)})\n` +
        `await keepingAlive(${waitOnUnrefdTimer})\nconsole.log('settled')`,
    )
    expect(result.stdout).toBe('settled\n')
    expect(result.status).toBe(0)
  })

  it('is needed: the same wait without it ends the process with 13 before it settles', () => {
    const result = runModule(`await ${waitOnUnrefdTimer}\nconsole.log('settled')`)
    expect(result.stdout).toBe('')
    expect(result.status).toBe(13)
  })

  it('lets the process end once the work is done', () => {
    const result = runModule(
      `const { keepingAlive } = await import(${JSON.stringify(keepAlive)})\n` +
        `await keepingAlive(Promise.resolve(1))\nconsole.log('done')`,
    )
    expect(result.status).toBe(0)
    expect(result.stdout).toBe('done\n')
  })
})
