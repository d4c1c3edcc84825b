// Help, version and typos, as a first-time operator meets them: `cfctl help`, `-h`, `version`, `-v` work;
// a mistyped command or flag gets a "did you mean" in cfctl's error style, named as typed (no oclif `:`).
import { describe, expect, it } from 'vitest'
import { aCliHome } from './run-cli.js'

const user = aCliHome()

describe('help and version', () => {
  it.each([[['help']], [['-h']], [['--help']]])(
    'cfctl %j lists the commands and the migrations topic',
    async (args) => {
      const result = await user.run(args)
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/^ {2}migrate {12}Move apps from one backend to the other/m)
      expect(result.stdout).toMatch(/^ {2}migrations {2}List, show and steer the migrations in the journal/m)
      expect(result.stdout).not.toMatch(/migrations\s+Abort a migration/)
    },
  )

  it.each([
    [['help', 'migrate'], /^Move apps from one backend to the other/],
    [['help', 'migrations', 'list'], /^List the migrations in the journal\n\nUSAGE\n {2}\$ cfctl migrations list /],
    [['migrate', '-h'], /^Move apps from one backend to the other/],
  ])('cfctl %j shows that command’s help', async (args, start) => {
    const result = await user.run(args)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(start)
  })

  it.each([[['version']], [['-v']], [['--version']]])('cfctl %j prints the version', async (args) => {
    const result = await user.run(args)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^cfctl\/\d+\.\d+\.\d+ /)
  })

  it('wraps a description once, to the terminal: no ragged lines at 80 columns', async () => {
    const result = await user.run(['target', '--help'])
    const description = result.stdout.split('DESCRIPTION\n')[1]!.split('\n\nEXAMPLES')[0]!
    const paragraphs = description.split('\n\n').map((paragraph) => paragraph.split('\n'))
    for (const lines of paragraphs) for (const line of lines.slice(0, -1)) expect(line.length).toBeGreaterThan(60)
    expect(description).toContain('saves the target in\n  $CFCTL_HOME/config.json (default ~/.cfctl).')
  })
})

describe('typos', () => {
  it.each([
    [['aps'], 'error: unknown command "aps"\nhint:  did you mean cfctl apps? (cfctl help lists the commands)\n'],
    [
      ['enable-deigo', 'my-app'],
      'error: unknown command "enable-deigo"\nhint:  did you mean cfctl enable-diego? (cfctl help lists the commands)\n',
    ],
    [
      ['migrations', 'lst'],
      'error: unknown command "migrations lst"\nhint:  did you mean cfctl migrations list? (cfctl help lists the commands)\n',
    ],
    [
      ['migrations', 'xyz'],
      'error: unknown command "migrations xyz"\nhint:  cfctl migrations --help lists its commands\n',
    ],
    [
      ['help', 'aps'],
      'error: unknown command "aps"\nhint:  did you mean cfctl apps? (cfctl help lists the commands)\n',
    ],
    [
      ['apps', 'extra'],
      'error: unexpected argument: extra\nhint:  usage: cfctl apps [FLAGS]  (cfctl apps --help for more)\n',
    ],
    [
      ['apps', '--backedn', 'dea'],
      'error: unknown flag --backedn\nhint:  did you mean --backend? (cfctl apps --help lists the flags)\n',
    ],
  ])('cfctl %j: one error line, a hint, exit 2', async (args, stderr) => {
    const result = await user.run(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(stderr)
    expect(result.stdout).toBe('')
  })

  it('answers JSON on stdout for an unknown command under --json', async () => {
    const result = await user.run(['aps', '--json'])
    expect(result.code).toBe(2)
    expect(JSON.parse(result.stdout)).toEqual({
      error: {
        message: 'unknown command "aps"',
        hint: 'did you mean cfctl apps? (cfctl help lists the commands)',
        exit_code: 2,
      },
    })
  })
})
