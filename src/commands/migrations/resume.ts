import { MigrationControlCommand } from '../../cli/migrations-command.js'

export default class MigrationsResume extends MigrationControlCommand {
  static override summary = 'Resume a paused migration that a cfctl is running (else: cfctl migrate --resume ID)'
  static override examples = ['<%= config.bin %> migrations resume 20261123-111318-9093']
  protected override readonly control = 'resume'
}
