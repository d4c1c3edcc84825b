import { Args, Flags } from '@oclif/core'
import { CfctlCommand } from '../cli/base.js'
import { configPath, type TargetConfig } from '../core/auth/config.js'
import { loadSession, saveTarget } from '../core/auth/session.js'
import { discoverTarget, parseRouterUrl, selectOrgAndSpace } from '../core/auth/target.js'

interface TargetView {
  api: string
  apiVersion?: string
  user?: string
  org?: string
  space?: string
  /** Where route probes go, with the app's hostname as Host; absent: https://HOST.DOMAIN. */
  router?: string
  source: string
}

export default class Target extends CfctlCommand {
  static override summary = 'Set or show the targeted foundation, org and space'
  static override description =
    `With a URL, reads /v2/info to find the token endpoint and saves the target in $CFCTL_HOME/config.json
(default ~/.cfctl). With -o/-s, targets an org and space. With neither, shows the target: cfctl's own, or the
cf CLI's ($CF_HOME/.cf/config.json) when cfctl has none.`
  static override examples = [
    '<%= config.bin %> target http://127.0.0.1:9022',
    '<%= config.bin %> target https://api.sys.example.com --skip-ssl-validation',
    '<%= config.bin %> target -o acme -s prod',
    '<%= config.bin %> target https://api.sys.example.com --router https://10.0.16.4',
  ]
  static override enableJsonFlag = true
  static override args = { url: Args.string({ description: 'the Cloud Controller API URL' }) }
  static override flags = {
    'skip-ssl-validation': Flags.boolean({ description: 'do not verify the TLS certificate of the target' }),
    org: Flags.string({ char: 'o', description: 'target this org' }),
    space: Flags.string({ char: 's', description: 'target this space' }),
    router: Flags.string({
      description:
        "send route probes to this router address with the app's hostname as Host (for a jumpbox where app domains do not resolve); kept with the target",
    }),
  }

  async run(): Promise<TargetView> {
    const { args, flags } = await this.parse(Target)
    if (args.url) {
      const target = await discoverTarget(args.url, {
        skipSslValidation: flags['skip-ssl-validation'],
        routerUrl: flags.router,
      })
      // Targeting the same API again keeps the router given before, unless a new one is.
      const previous = savedTarget()
      if (target.routerUrl === undefined && previous?.api === target.api && previous.routerUrl)
        target.routerUrl = previous.routerUrl
      saveTarget(target)
    } else if (flags.router !== undefined) {
      saveTarget({ ...loadSession().target, routerUrl: parseRouterUrl(flags.router) })
    }
    const session = loadSession()
    if (flags.org !== undefined || flags.space !== undefined) {
      const { client } = await this.connect(flags)
      await selectOrgAndSpace(session, client, { org: flags.org, space: flags.space })
    }
    const view: TargetView = {
      api: session.target.api,
      apiVersion: session.target.apiVersion,
      user: session.user,
      org: session.org?.name,
      space: session.space?.name,
      router: session.target.routerUrl,
      source: session.origin.kind === 'embedded' ? 'embedded' : session.origin.path,
    }
    if (!this.jsonEnabled()) {
      this.log(`API:    ${view.api}${view.apiVersion ? ` (API version ${view.apiVersion})` : ''}`)
      this.log(`User:   ${view.user ?? '(not logged in: cfctl login)'}`)
      this.log(`Org:    ${view.org ?? '(none: cfctl target -o ORG)'}`)
      this.log(`Space:  ${view.space ?? '(none: cfctl target -s SPACE)'}`)
      this.log(
        `Router: ${view.router ? `${view.router} (route probes go here, Host: the app's hostname)` : '(none: route probes go to https://HOST.DOMAIN; set one with --router URL)'}`,
      )
      if (session.origin.kind === 'cf-cli')
        this.log(`(read from the cf CLI's ${session.origin.path}; cfctl's own is ${configPath()})`)
    }
    return view
  }
}

function savedTarget(): TargetConfig | undefined {
  try {
    return loadSession().target
  } catch {
    return undefined
  }
}
