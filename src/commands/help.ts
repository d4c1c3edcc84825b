import { Args, Command, Errors, loadHelpClass } from '@oclif/core'
import { reportProblem, wantsJson } from '../cli/problem.js'
import { usageProblem } from '../cli/usage.js'

export default class HelpCommand extends Command {
  static override summary = 'Show help for cfctl or for one of its commands'
  static override description = 'The same as --help (or -h) after the command.'
  static override examples = ['<%= config.bin %> help migrate', '<%= config.bin %> help migrations list']
  static override strict = false
  static override args = {
    command: Args.string({ description: 'a command or topic, e.g. migrate or migrations list' }),
  }

  async run(): Promise<void> {
    const { argv } = await this.parse(HelpCommand)
    const Help = await loadHelpClass(this.config)
    await new Help(this.config, this.config.pjson.oclif.helpOptions).showHelp(argv as string[])
  }

  protected override async catch(error: Error): Promise<unknown> {
    const problem = usageProblem(error, { id: this.id, args: HelpCommand.args }, this.config.bin)
    if (!problem) return super.catch(error)
    reportProblem(problem, wantsJson(this.argv))
    throw new Errors.ExitError(problem.exitCode)
  }
}
