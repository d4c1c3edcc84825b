// docs/ci-migration.yml, the sample CI job: every cfctl flag it uses exists on its command, and its login and
// migrate steps, run by bash as a runner would run them (with `cfctl` on the PATH), migrate a real foundation
// and hand the exit code and the migration id to the steps that branch on them.
import { execFile, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from '@oclif/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Login from '../../src/commands/login.js'
import Migrate from '../../src/commands/migrate.js'
import MigrationsAbort from '../../src/commands/migrations/abort.js'
import MigrationsList from '../../src/commands/migrations/list.js'
import MigrationsPause from '../../src/commands/migrations/pause.js'
import MigrationsShow from '../../src/commands/migrations/show.js'
import Rollback from '../../src/commands/rollback.js'
import { aCliHome, cliEntry } from '../cli/run-cli.js'
import { startPostgres, type TestPostgres } from '../support/postgres.js'
import { aTempDir, FLEET_ORG, jsonLines, WatchedFoundation, writeSeedFile } from './support.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const workflow = readFileSync(join(root, 'docs', 'ci-migration.yml'), 'utf8')

const COMMANDS: Record<string, typeof Command> = {
  login: Login,
  migrate: Migrate,
  rollback: Rollback,
  'migrations show': MigrationsShow,
  'migrations list': MigrationsList,
  'migrations pause': MigrationsPause,
  'migrations abort': MigrationsAbort,
}

/** Every `cfctl ...` command line of the workflow's scripts, continuation lines joined. */
function cfctlLines(text: string): string[] {
  const joined = text.replace(/\\\n\s*/g, ' ')
  return [...joined.matchAll(/(?:^|[\s"(`])cfctl ((?:login|migrate|rollback|migrations) [^\n>|;&`]*)/g)].map((m) =>
    m[1]!.trim(),
  )
}

/** The names (`--x`) and characters (`-x`) a command accepts. */
function flagsOf(command: typeof Command): Set<string> {
  const all = { ...command.baseFlags, ...command.flags } as Record<string, { char?: string }>
  const names = new Set<string>()
  for (const [name, flag] of Object.entries(all)) {
    names.add(`--${name}`)
    if (flag.char) names.add(`-${flag.char}`)
    if ((flag as { allowNo?: boolean }).allowNo) names.add(`--no-${name}`)
  }
  if (command.enableJsonFlag) names.add('--json')
  return names
}

/** The script of a step (`- name: NAME` ... `run: |` or `run: ...`), with `${{ }}` expressions replaced. */
function stepScript(name: string, values: Record<string, string>): string {
  const lines = workflow.split('\n')
  const at = lines.findIndex((line) => line.trim() === `- name: ${name}`)
  if (at < 0) throw new Error(`no step named ${name}`)
  const stepIndent = lines[at]!.indexOf('-')
  let script: string | undefined
  for (let i = at + 1; i < lines.length; i++) {
    const line = lines[i]!
    const indent = line.search(/\S/)
    if (indent >= 0 && indent <= stepIndent) break
    const run = /^(\s*)run: (.*)$/.exec(line)
    if (!run) continue
    if (run[2] !== '|') {
      script = run[2]!
      break
    }
    const body: string[] = []
    for (let j = i + 1; j < lines.length; j++) {
      const next = lines[j]!
      if (next.trim() !== '' && next.search(/\S/) <= run[1]!.length) break
      body.push(next.slice(run[1]!.length + 2))
    }
    script = body.join('\n')
    break
  }
  if (script === undefined) throw new Error(`step ${name} has no run:`)
  return script.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expression: string) => {
    const value = values[expression]
    if (value === undefined) throw new Error(`step ${name}: no value for \${{ ${expression} }}`)
    return value
  })
}

function bash(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-e', '-c', script], { cwd, env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

describe('docs/ci-migration.yml', () => {
  it('has no one-line run: that YAML would misread (a plain scalar holding ": " or " #")', () => {
    const oneLiners = [...workflow.matchAll(/^\s*run: (?![|>])(.*)$/gm)].map((m) => m[1]!)
    expect(oneLiners.length).toBeGreaterThan(0)
    for (const line of oneLiners) expect(line, line).not.toMatch(/: | #/)
  })

  it('uses only flags that its cfctl commands have', () => {
    const lines = cfctlLines(workflow)
    expect(lines.length).toBeGreaterThanOrEqual(6)
    for (const line of lines) {
      const words = line.split(/\s+/)
      const id = COMMANDS[`${words[0]} ${words[1]}`] ? `${words[0]} ${words[1]}` : words[0]!
      const command = COMMANDS[id]
      expect(command, `a command the test knows: cfctl ${line}`).toBeDefined()
      const known = flagsOf(command!)
      for (const [flag] of line.matchAll(/(?<=^|[\s+])--?[a-z][\w-]*/g)) {
        expect(known.has(flag.replace(/=.*/, '')), `cfctl ${id} has ${flag} (in: cfctl ${line})`).toBe(true)
      }
    }
  })

  // Two jobs on two foundations of their own, each mostly waiting on the rate of 10 a minute: side by side.
  describe.concurrent('its steps, run as a runner runs them', () => {
    let world: WatchedFoundation
    beforeAll(async () => {
      world = await WatchedFoundation.start({
        seed: writeSeedFile(aTempDir(), { apps: 3, stoppedEvery: 3 }),
        speed: 50,
      })
    }, 30_000)
    afterAll(async () => {
      await world?.stop()
    })

    /** A runner's work directory with `cfctl` on its PATH, and the environment of its job. */
    function aRunnerFor(extra: NodeJS.ProcessEnv = {}): { work: string; env: NodeJS.ProcessEnv; output: string } {
      const work = aTempDir()
      const bin = join(work, 'bin')
      mkdirSync(bin)
      writeFileSync(
        join(bin, 'cfctl'),
        `#!/bin/sh\nexec ${[process.execPath, ...cliEntry()].map((arg) => `"${arg}"`).join(' ')} "$@"\n`,
      )
      chmodSync(join(bin, 'cfctl'), 0o755)
      const output = join(work, 'github-output')
      writeFileSync(output, '')
      const home = aCliHome()
      const env: NodeJS.ProcessEnv = {
        ...home.env,
        PATH: `${bin}:${process.env.PATH}`,
        GITHUB_OUTPUT: output,
        CF_API: world.apiUrl,
        ORG: FLEET_ORG,
        CFCTL_USERNAME: 'cfctl-ci',
        CFCTL_PASSWORD: 'cfctl-ci',
        ...extra,
      }
      return { work, env, output }
    }

    it('with the shared journal, resumes on another runner the migration of a job that died', async () => {
      const postgres: TestPostgres = await startPostgres()
      // A foundation of its own: the other test moves the shared one's apps.
      const own = await WatchedFoundation.start({
        seed: writeSeedFile(aTempDir(), { apps: 3, stoppedEvery: 3 }),
        speed: 50,
      })
      const shared = { CFCTL_JOURNAL: postgres.url, CF_API: own.apiUrl }
      try {
        const first = aRunnerFor(shared)
        expect((await bash(stepScript('Log in with client credentials', {}), first.work, first.env)).code).toBe(0)
        // The first job dies (its runner is lost) once one app has moved.
        const job = spawn('bash', ['-e', '-c', stepScript('Migrate', {})], {
          cwd: first.work,
          env: first.env,
          detached: true,
          stdio: 'ignore',
        })
        const events = join(first.work, 'events.jsonl')
        const deadline = Date.now() + 60_000
        while (!(existsSync(events) && readFileSync(events, 'utf8').includes('"type":"step-verified"'))) {
          if (Date.now() > deadline) throw new Error('the first job moved no app within 60 s')
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
        process.kill(-job.pid!, 'SIGKILL')
        const moved = own.appsOf(FLEET_ORG).filter((app) => app.diego).length
        expect(moved).toBeLessThan(3)

        // The next job, on another runner (its own CFCTL_HOME), finds it in the shared journal and finishes it.
        const next = aRunnerFor(shared)
        expect((await bash(stepScript('Log in with client credentials', {}), next.work, next.env)).code).toBe(0)
        const migrate = await bash(stepScript('Migrate', {}), next.work, next.env)
        expect(migrate.code, migrate.stderr).toBe(0)
        expect(migrate.stdout).toMatch(/::notice::resuming migration \S+, left running by an earlier job/)
        expect(migrate.stdout).toContain('::notice::every app migrated')
        const lines = jsonLines(readFileSync(join(next.work, 'events.jsonl'), 'utf8'))
        expect(lines.at(-1)).toMatchObject({ type: 'summary', state: 'completed', exitCode: 0 })
        for (const app of own.appsOf(FLEET_ORG)) {
          expect(app.diego, app.name).toBe(true)
          expect(own.historyOf(app.guid).updates, `${app.name} set by one PUT`).toBe(1)
        }
      } finally {
        await own.stop()
        await postgres.destroy()
      }
    }, 120_000)

    it('logs in with client credentials, migrates, and hands on exit code 0 and the migration id', async () => {
      const { work, env, output } = aRunnerFor()
      const values = {}

      const login = await bash(stepScript('Log in with client credentials', values), work, env)
      expect(login.stderr).toBe('')
      expect(login.code).toBe(0)
      const plan = await bash(stepScript('Plan (changes nothing)', values), work, env)
      expect(plan.code, plan.stderr).toBe(0)
      expect(JSON.parse(readFileSync(join(work, 'plan.json'), 'utf8'))).toMatchObject({
        type: 'plan',
        totals: { apps: 3 },
      })

      const migrate = await bash(stepScript('Migrate', values), work, env)

      expect(migrate.code, migrate.stderr).toBe(0)
      expect(migrate.stdout).toContain('::notice::every app migrated')
      const events = jsonLines(readFileSync(join(work, 'events.jsonl'), 'utf8'))
      const summary = events.at(-1)
      expect(summary).toMatchObject({ type: 'summary', state: 'completed', exitCode: 0 })
      const handedOn = Object.fromEntries(
        readFileSync(output, 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.split('=') as [string, string]),
      )
      expect(handedOn).toEqual({ 'exit-code': '0', 'migration-id': summary.migrationId })
      expect(world.appsOf(FLEET_ORG).every((app) => app.diego)).toBe(true)
      // 10 a minute: the third app started a good 12 s after the first.
      const starts = events.filter((e) => e.type === 'step-started').map((e) => e.at)
      expect(starts.at(-1) - starts[0]).toBeGreaterThanOrEqual(11_900)
    }, 90_000)
  })
})
