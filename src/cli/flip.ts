// enable-diego and disable-diego are one command pointed two ways.
import type { BackendChange, BackendName } from '../core/apps/inventory.js'
import { findApp, setBackend } from '../core/apps/inventory.js'
import { appFlags, appRefFrom } from './app-ref.js'
import { CfctlCommand } from './base.js'

export abstract class FlipCommand extends CfctlCommand {
  static override enableJsonFlag = true
  static override flags = appFlags

  protected abstract readonly backend: BackendName

  async run(): Promise<BackendChange> {
    const { args, flags } = await this.parse(this.constructor as typeof FlipCommand)
    const { client, session } = await this.connect(flags)
    const app = await findApp(client, appRefFrom(args, flags, session))
    const change = await setBackend(client, app, this.backend)
    if (!this.jsonEnabled()) {
      const where = this.backend === 'diego' ? 'Diego' : 'the DEAs'
      this.log(
        change.changed
          ? `${change.name} now runs on ${where}; its old instances wind down as the other backend converges`
          : `${change.name} already runs on ${where}; nothing changed`,
      )
    }
    return change
  }
}
