import { appArgs, appFlags, appRefFrom } from '../cli/app-ref.js'
import { CfctlCommand } from '../cli/base.js'
import { backendOf, findApp } from '../core/apps/inventory.js'

export default class HasDiegoEnabled extends CfctlCommand {
  static override summary = 'Say whether an app runs on Diego'
  static override description = 'Prints true or false (exit 0 either way), as the Diego-Enabler plugin did.'
  static override examples = ['<%= config.bin %> has-diego-enabled my-app']
  static override enableJsonFlag = true
  static override args = appArgs
  static override flags = appFlags

  async run(): Promise<{ guid: string; name: string; diego: boolean; backend: string }> {
    const { args, flags } = await this.parse(HasDiegoEnabled)
    const { client, session } = await this.connect(flags)
    const app = await findApp(client, appRefFrom(args, flags, session))
    if (!this.jsonEnabled()) this.log(String(app.diego))
    return { guid: app.guid, name: app.name, diego: app.diego, backend: backendOf(app) }
  }
}
