import { Command, Errors, Flags } from '@oclif/core'
import { releaseStartupGarbageSoon } from '../cli/heap.js'
import { type Problem, reportProblem, wantsJson } from '../cli/problem.js'
import { usageProblem } from '../cli/usage.js'
import { Foundation, FoundationOptionError } from '../scheduler/foundation.js'

/** The flag behind each foundation option, to name it in a message. */
const FLAG_OF: Record<FoundationOptionError['option'], string> = {
  host: '--host',
  port: '--port',
  routerPort: '--router-port',
  dataFile: '--data',
  seed: '--seed',
  speed: '--speed',
  users: '--admin-user/--developer-user',
}

/** A flag value the server cannot use: one line on stderr, exit 2. */
class FlagError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message)
  }
}

export default class Server extends Command {
  static override summary =
    'Run the embedded foundation: a CC v2-compatible API, UAA-style tokens, Diego and DEA backends, a router'
  static override description =
    `Binds 127.0.0.1 by default. Every cfctl command can target it; so can curl and the cf CLI.
Boot times and convergence intervals shrink with --speed, so demos and tests run fast.
Stops cleanly on SIGINT (Ctrl-C) and SIGTERM. Exit codes: 0 stopped, 1 failed, 2 bad flags.`

  static override examples = [
    '<%= config.bin %> server',
    '<%= config.bin %> server --port 8080 --seed medium --data ./foundation.db',
    '<%= config.bin %> server --no-users-can-select-backend --speed 10',
  ]

  static override flags = {
    port: Flags.integer({ description: 'API port (0 picks a free one)', default: 0, min: 0, max: 65535 }),
    'router-port': Flags.integer({ description: 'router port (0 picks a free one)', default: 0, min: 0, max: 65535 }),
    host: Flags.string({ description: 'address to bind', default: '127.0.0.1' }),
    data: Flags.string({
      description: 'SQLite file that keeps orgs, spaces, apps and users across restarts (default: in memory)',
    }),
    seed: Flags.string({
      description:
        'what to load into an empty store: small (~50 apps), medium (~2,000), large (~50,000), or a seed JSON FILE',
      default: 'small',
    }),
    'users-can-select-backend': Flags.boolean({
      description: "let space developers change an app's diego flag (CC's users_can_select_backend)",
      default: true,
      allowNo: true,
    }),
    'default-to-diego-backend': Flags.boolean({
      description: 'new apps run on Diego unless they say otherwise (CC default_to_diego_backend)',
      default: false,
    }),
    speed: Flags.integer({
      description: 'run the backends N times faster than real time',
      default: 1,
      min: 1,
      max: 10_000,
    }),
    'admin-user': Flags.string({ description: 'admin login, as USER:PASSWORD', default: 'admin:admin' }),
    'developer-user': Flags.string({
      description: 'space developer login, as USER:PASSWORD',
      default: 'developer:developer',
    }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Server)
    const users = {
      admin: credentials(flags['admin-user'], '--admin-user'),
      developer: credentials(flags['developer-user'], '--developer-user'),
    }
    if (users.admin.username === users.developer.username)
      throw new FlagError(`--admin-user and --developer-user name the same user "${users.admin.username}"`)
    const foundation = await Foundation.start({
      host: flags.host,
      port: flags.port,
      routerPort: flags['router-port'],
      dataFile: flags.data,
      seed: flags.seed,
      usersCanSelectBackend: flags['users-can-select-backend'],
      defaultToDiegoBackend: flags['default-to-diego-backend'],
      speed: flags.speed,
      users,
    })
    this.log(foundation.describe())
    releaseStartupGarbageSoon()
    const signal = await new Promise<string>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'))
      process.once('SIGTERM', () => resolve('SIGTERM'))
    })
    this.logToStderr(`${signal}: stopping the foundation`)
    await foundation.stop()
  }

  /** Flag problems are one line and exit 2; a taken port exits 1; anything else is a bug and keeps its stack. */
  protected override async catch(error: Error & { oclif?: { exit?: number } }): Promise<unknown> {
    const help = 'see cfctl server --help'
    let problem: Problem | undefined
    if (error instanceof FlagError) {
      problem = { message: error.message, exitCode: error.exitCode }
    } else if (error instanceof FoundationOptionError) {
      const exitCode = error.option === 'port' || error.option === 'routerPort' || error.option === 'host' ? 1 : 2
      problem = { message: `${FLAG_OF[error.option]}: ${error.message}`, exitCode }
    } else {
      problem = usageProblem(error, { id: this.id, flags: Server.flags }, this.config.bin)
    }
    if (problem === undefined) return super.catch(error)
    reportProblem(
      { ...problem, hint: problem.exitCode === 2 ? (problem.hint ?? help) : problem.hint },
      wantsJson(this.argv),
    )
    throw new Errors.ExitError(problem.exitCode)
  }
}

function credentials(value: string, flag: string): { username: string; password: string } {
  const at = value.indexOf(':')
  if (at <= 0 || at === value.length - 1)
    throw new FlagError(`${flag} takes USER:PASSWORD, got "${value.replace(/:.*/, ':…')}"`)
  return { username: value.slice(0, at), password: value.slice(at + 1) }
}
