import { appArgs } from '../cli/app-ref.js'
import { FlipCommand } from '../cli/flip.js'

export default class EnableDiego extends FlipCommand {
  static override summary = "Move an app to Diego (sets the CC's diego flag)"
  static override examples = ['<%= config.bin %> enable-diego my-app', '<%= config.bin %> enable-diego --guid 8d2e…']
  // oclif reads a command's args from its own static properties only.
  static override args = appArgs
  protected readonly backend = 'diego'
}
