import { Flags } from '@oclif/core'
import { appArgs, appFlags, appRefFrom } from '../cli/app-ref.js'
import { CfctlCommand } from '../cli/base.js'
import { backendOf, findApp } from '../core/apps/inventory.js'

export default class HasDiegoEnabled extends CfctlCommand {
  static override summary = 'Say whether an app runs on Diego'
  static override description =
    `Prints true or false, exit 0 either way, as the Diego-Enabler plugin did (scripts written for it read the
word). For a script that branches on the exit status, --exit-code: 0 on Diego, 3 on the DEAs (as
\`git diff --exit-code\` does); an error stays 1, a usage error 2.`
  static override examples = [
    '<%= config.bin %> has-diego-enabled my-app',
    'if <%= config.bin %> has-diego-enabled my-app --exit-code; then echo on Diego; fi',
  ]
  static override enableJsonFlag = true
  static override args = appArgs
  static override flags = {
    ...appFlags,
    'exit-code': Flags.boolean({ description: 'exit 0 when the app runs on Diego, 3 when it runs on the DEAs' }),
  }

  async run(): Promise<{ guid: string; name: string; diego: boolean; backend: string }> {
    const { args, flags } = await this.parse(HasDiegoEnabled)
    const { client, session } = await this.connect(flags)
    const app = await findApp(client, appRefFrom(args, flags, session))
    if (!this.jsonEnabled()) this.log(String(app.diego))
    if (flags['exit-code'] && !app.diego) process.exitCode = 3
    return { guid: app.guid, name: app.name, diego: app.diego, backend: backendOf(app) }
  }
}
