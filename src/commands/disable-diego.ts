import { appArgs } from '../cli/app-ref.js'
import { FlipCommand } from '../cli/flip.js'

export default class DisableDiego extends FlipCommand {
  static override summary = "Move an app back to the DEAs (clears the CC's diego flag)"
  static override examples = ['<%= config.bin %> disable-diego my-app']
  // oclif reads a command's args from its own static properties only.
  static override args = appArgs
  protected readonly backend = 'dea'
}
