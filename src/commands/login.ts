import { Flags } from '@oclif/core'
import { CfctlCommand } from '../cli/base.js'
import { ask, choose, interactive } from '../cli/prompt.js'
import { loadSession, saveTarget } from '../core/auth/session.js'
import { type Credentials, discoverTarget, type LoginResult, logIn } from '../core/auth/target.js'
import { ConfigError } from '../core/errors.js'

export default class Login extends CfctlCommand {
  static override summary = 'Log in to the target and save the tokens'
  static override description =
    `Asks for what is missing when run on a terminal, as cf login does: the API when there is no target, the user
and password, and an org and space when there are several to choose from. In scripts, pass -a, -u and -p (or
CFCTL_USERNAME and CFCTL_PASSWORD), and -o/-s. Tokens are saved in $CFCTL_HOME/config.json with mode 0600 and
refreshed when they expire. They are never printed.`
  static override examples = [
    '<%= config.bin %> login -a http://127.0.0.1:9022 -u admin -p admin',
    '<%= config.bin %> login --client-credentials -u cfctl-ci -p "$CLIENT_SECRET"',
  ]
  static override enableJsonFlag = true
  static override flags = {
    api: Flags.string({ char: 'a', description: 'target this API URL first' }),
    username: Flags.string({
      char: 'u',
      description: 'user name (or client id with --client-credentials)',
      env: 'CFCTL_USERNAME',
    }),
    password: Flags.string({
      char: 'p',
      description: 'password (or client secret with --client-credentials)',
      env: 'CFCTL_PASSWORD',
    }),
    'client-credentials': Flags.boolean({ description: 'log in as a UAA client (client_credentials grant), for CI' }),
    org: Flags.string({ char: 'o', description: 'target this org' }),
    space: Flags.string({ char: 's', description: 'target this space' }),
    'skip-ssl-validation': Flags.boolean({ description: 'do not verify the TLS certificate of the target' }),
  }

  async run(): Promise<LoginResult> {
    const { flags } = await this.parse(Login)
    // With no target anywhere, ask for the API first, as `cf login` does.
    const api = flags.api ?? (hasTarget() ? undefined : await ask('API endpoint: ', { flag: '--api (-a)' }))
    if (api) saveTarget(await discoverTarget(api, { skipSslValidation: flags['skip-ssl-validation'] }))
    const session = loadSession()
    if (session.origin.kind !== 'cfctl') {
      // Logging in writes cfctl's own config; start it from the cf CLI's target.
      saveTarget(session.target)
    }
    const mine = loadSession()
    const clientMode = flags['client-credentials']
    const username =
      flags.username ?? (await ask(clientMode ? 'Client ID: ' : 'Username: ', { flag: '--username (-u)' }))
    const password =
      flags.password ??
      (await ask(clientMode ? 'Client secret: ' : 'Password: ', { secret: true, flag: '--password (-p)' }))
    const credentials: Credentials = clientMode
      ? { kind: 'client-credentials', clientId: username, clientSecret: password }
      : { kind: 'password', username, password }
    const result = await logIn(mine, credentials, {
      org: flags.org,
      space: flags.space,
      choose: interactive() ? choose : undefined,
    })
    if (!this.jsonEnabled()) {
      this.log(`Logged in to ${result.api} as ${result.user ?? username}`)
      this.log(`Org:    ${result.org ?? '(none: cfctl target -o ORG)'}`)
      this.log(`Space:  ${result.space ?? '(none: cfctl target -s SPACE)'}`)
    }
    return result
  }
}

function hasTarget(): boolean {
  try {
    loadSession()
    return true
  } catch (error) {
    if (error instanceof ConfigError) return false
    throw error
  }
}
