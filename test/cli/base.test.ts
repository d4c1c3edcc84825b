// CfctlCommand's one error path, in process: an exit code set on purpose passes through untouched.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Config, Errors } from '@oclif/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CfctlCommand } from '../../src/cli/base.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

class EndsPaused extends CfctlCommand {
  static override enableJsonFlag = true
  async run(): Promise<void> {
    await this.parse(EndsPaused)
    throw new Errors.ExitError(3)
  }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('CfctlCommand.catch', () => {
  it('lets an ExitError through with its code, reporting nothing (not "cfctl failed: EEXIT")', async () => {
    const written: string[] = []
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => written.push(String(chunk)) > 0)
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => written.push(String(chunk)) > 0)
    const config = await Config.load({ root, ignoreManifest: true })
    const outcome = await EndsPaused.run(['--json'], config).catch((error: unknown) => error)
    expect(outcome).toBeInstanceOf(Errors.ExitError)
    expect((outcome as Errors.ExitError).oclif.exit).toBe(3)
    expect(written.join('')).toBe('')
  })
})
