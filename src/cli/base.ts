// What every cfctl command shares: `--embedded`, connecting to the target (a Session and a CC client),
// and the one place errors become a line on stderr, a hint and an exit code (0 ok, 1 failure, 2 usage).
import { Command, Errors, Flags, type Interfaces } from '@oclif/core'
import { loadSession, memorySession, type Session } from '../core/auth/session.js'
import { CcClient, CfApiError, CfAuthError, CfNetworkError, CfSchemaError, cfErrorHint } from '../core/cc/index.js'
import { RouteProbe } from '../core/cc/route-probe.js'
import { UserError } from '../core/errors.js'
import { JournalError } from '../core/journal/journal.js'
import { LockHeldError } from '../core/journal/lock.js'
import { painterFor } from '../ui/text.js'
import { type Problem, reportProblem, wantsJson } from './problem.js'
import { type CommandShape, usageProblem } from './usage.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof CfctlCommand)['baseFlags'] & T['flags']
>

/** How fast the in-process foundation of `--embedded` runs its backends: boots take a fraction of a second. */
export const EMBEDDED_SPEED = 20

export interface Connection {
  session: Session
  client: CcClient
  /** Probes app routes: through the target's router when it has one (the embedded foundation), else the app's URL. */
  probe: RouteProbe
  /** Set when `--embedded` started a foundation in this process. */
  embedded?: { apiUrl: string; routerUrl: string; stop(): Promise<void> }
}

export abstract class CfctlCommand extends Command {
  static override baseFlags = {
    embedded: Flags.boolean({
      description:
        'start an embedded foundation (small seed) in this process and target it, instead of the saved target',
      helpGroup: 'GLOBAL',
      default: false,
    }),
  }

  private connection: Connection | undefined

  /** The target and a client for it: the saved one (cfctl's, else the cf CLI's), or an embedded foundation. */
  /** The target's CC (or the embedded foundation's); `connections` bounds the client's CC connections. */
  /**
   * `onWarning` takes the CC's X-Cf-Warnings; by default they go to stderr (as `{"type":"warning"}` lines
   * under --json, so stdout stays one JSON document).
   */
  protected async connect(
    flags: { embedded?: boolean },
    options: { connections?: number; onWarning?: (warning: string) => void } = {},
  ): Promise<Connection> {
    if (this.connection) return this.connection
    const client = { connections: options.connections, onWarning: options.onWarning ?? ((w: string) => this.warnOf(w)) }
    this.connection = flags.embedded ? await startEmbedded(client) : connectSaved(client)
    return this.connection
  }

  /** A warning the CC sent, on stderr. */
  protected warnOf(warning: string): void {
    if (this.jsonEnabled()) process.stderr.write(`${JSON.stringify({ type: 'warning', message: warning })}\n`)
    else process.stderr.write(`${painterFor(process.stderr).yellow('warning:')} ${warning}\n`)
  }

  /**
   * oclif colours JSON with a regex tokenizer, seconds on a 50,000-app listing; a pipe gets plain JSON
   * (the same text without the colour codes), a terminal keeps the colours.
   */
  protected override logJson(json: unknown): void {
    if (process.stdout.isTTY) super.logJson(json)
    else process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  /**
   * Every error ends here: one the user can act on (or a usage error from oclif's parser) is an `error:` line,
   * a hint and its exit code; with `--json` also one small JSON object on stdout. Anything else is a bug and
   * keeps its stack.
   */
  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    // An exit code set on purpose (a run that ended paused, exit 3) is no error to report.
    if (error instanceof Errors.ExitError) throw error
    const json = this.jsonEnabled() || wantsJson(this.argv)
    const problem = describeError(error) ?? usageProblem(error, this.shape(), this.config.bin)
    if (!problem) {
      if (json) reportProblem({ message: `cfctl failed: ${error.message}`, exitCode: 1 }, true)
      process.exitCode = 1
      throw error
    }
    reportProblem(problem, json)
    throw new Errors.ExitError(problem.exitCode)
  }

  private shape(): CommandShape {
    const { flags, baseFlags, args, enableJsonFlag } = this.ctor
    return { id: this.id, flags, baseFlags, args, enableJsonFlag }
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    const connection = this.connection
    this.connection = undefined
    if (connection) {
      await connection.client.close().catch(() => {})
      await connection.probe.close().catch(() => {})
      await connection.embedded?.stop().catch(() => {})
    }
    return super.finally(error)
  }
}

/** What a command asks of its CC client. */
interface ClientChoices {
  connections?: number
  onWarning?: (warning: string) => void
}

function connectSaved(choices: ClientChoices): Connection {
  const session = loadSession()
  const client = new CcClient({
    apiUrl: session.target.api,
    auth: session,
    skipSslValidation: session.target.skipSslValidation,
    ...choices,
  })
  const probe = new RouteProbe({
    routerUrl: session.target.routerUrl,
    skipSslValidation: session.target.skipSslValidation,
  })
  return { session, client, probe }
}

async function startEmbedded(choices: ClientChoices): Promise<Connection> {
  // Loaded only here: the engine is not part of a command that talks to a real foundation.
  const { Foundation } = await import('../scheduler/foundation.js')
  const foundation = await Foundation.start({ port: 0, routerPort: 0, seed: 'small', speed: EMBEDDED_SPEED })
  try {
    const info = await new CcClient({ apiUrl: foundation.apiUrl }).info()
    const session = memorySession({
      api: foundation.apiUrl,
      tokenEndpoint: info.tokenEndpoint,
      skipSslValidation: false,
      routerUrl: info.routerUrl ?? foundation.routerUrl,
    })
    const { username, password } = foundation.users.admin
    await session.login({ type: 'password', username, password })
    const client = new CcClient({ apiUrl: foundation.apiUrl, auth: session, ...choices })
    return {
      session,
      client,
      probe: new RouteProbe({ routerUrl: foundation.routerUrl }),
      embedded: { apiUrl: foundation.apiUrl, routerUrl: foundation.routerUrl, stop: () => foundation.stop() },
    }
  } catch (error) {
    await foundation.stop()
    throw error
  }
}

/** A user-facing description of an error cfctl expects, or undefined for a bug (which keeps its stack). */
export function describeError(error: unknown): Problem | undefined {
  if (error instanceof UserError) return { message: error.message, hint: error.hint, exitCode: error.exitCode }
  if (error instanceof CfApiError) {
    return {
      message: `${error.description} (${error.errorCode}, code ${error.code})`,
      hint: hintFor(error),
      exitCode: 1,
      cf: { status: error.status, code: error.code, error_code: error.errorCode },
    }
  }
  if (error instanceof LockHeldError)
    return {
      message: error.message,
      hint: `watch it with: cfctl migrations show ${error.lock.migrationId}; the target is free once that run ends (its process exits when paused: cfctl migrations pause ${error.lock.migrationId}, resumable later)`,
      exitCode: 1,
    }
  if (error instanceof JournalError) return { message: error.message, exitCode: 1 }
  // The error's own hint: for a wrong password "run: cfctl login" would only send the user round in a circle.
  if (error instanceof CfAuthError) return { message: error.message, hint: error.hint, exitCode: 1 }
  if (error instanceof CfNetworkError)
    return { message: error.message, hint: 'check the target URL and that the foundation is up', exitCode: 1 }
  if (error instanceof CfSchemaError)
    return {
      message: error.message,
      hint: 'the target answered in a shape cfctl does not know; is it a CC v2 API?',
      exitCode: 1,
    }
  return undefined
}

function hintFor(error: CfApiError): string | undefined {
  return cfErrorHint(error)
}
