// Every error in one shape: `error:`/`hint:` on stderr, and with --json one small JSON object on stdout,
// whatever raised it (oclif's parser, a command, no target at all). Run as a user runs cfctl, no foundation.
import { describe, expect, it } from 'vitest'
import { aCliHome } from './run-cli.js'

const user = aCliHome()

function jsonError(stdout: string): { message: string; hint?: string; exit_code: number } {
  const lines = stdout.trim().split('\n')
  expect(lines).toHaveLength(1)
  return JSON.parse(lines[0]!).error
}

describe('--json with an error', () => {
  it.each([
    [['apps', '--json', '--csv'], /--json cannot also be provided when using --csv/],
    [['apps', '--bogus', '--json'], /unknown flag --bogus/],
    [['apps', '--backend', 'foo', '--json'], /--backend: expected one of dea, diego, got "foo"/],
    [['migrate', '--to', 'diego', '--max-in-flight', 'x', '--json'], /--max-in-flight: Expected an integer/],
  ])('%j is a usage error: one small JSON object on stdout, exit 2', async (args, message) => {
    const result = await user.run(args)
    expect(result.code).toBe(2)
    const error = jsonError(result.stdout)
    expect(error.message).toMatch(message)
    expect(error.exit_code).toBe(2)
    expect(Object.keys(error).sort()).toEqual(['exit_code', 'hint', 'message'])
    expect(result.stderr).toContain(`error: ${error.message}`)
  })

  it('migrate --json reports a runtime error as JSON on stdout too', async () => {
    const result = await user.run(['migrate', '--json', '--to', 'diego', '--yes'])
    expect(result.code).toBe(1)
    expect(jsonError(result.stdout)).toMatchObject({ message: expect.stringMatching(/no target set/), exit_code: 1 })
  })
})

describe('usage errors', () => {
  it('suggests the flag a typo was meant to be, without oclif’s usage block', async () => {
    const result = await user.run(['apps', '--backedn', 'dea'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      'error: unknown flag --backedn\nhint:  did you mean --backend? (cfctl apps --help lists the flags)\n',
    )
    expect(result.stdout).toBe('')
  })

  it('names a missing argument and shows the one usage line', async () => {
    const result = await user.run(['migrations', 'show'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      'error: missing ID\nhint:  usage: cfctl migrations show ID [FLAGS]  (cfctl migrations show --help for more)\n',
    )
  })
})

describe('login with no target', () => {
  it('in a script, names -a, which a terminal would have been asked for', async () => {
    const result = await user.run(['login', '-u', 'admin', '-p', 'admin'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('error: --api (-a) is required when stdin is not a terminal\n')
  })
})
