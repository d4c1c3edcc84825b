import { MigrationControlCommand } from '../../cli/migrations-command.js'

export default class MigrationsPause extends MigrationControlCommand {
  static override summary = 'Pause a migration: no new app starts; the apps in flight finish their step'
  static override examples = ['<%= config.bin %> migrations pause 20261123-111318-9093']
  protected override readonly control = 'pause'
}
