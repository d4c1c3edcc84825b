// cfctl's help (package.json "oclif.helpClass"): oclif's, with two changes. Descriptions are written as
// paragraphs with line breaks where the source wraps; oclif wraps them again to the terminal, which left
// ragged lines, so the source's breaks inside a paragraph are joined first. And help for a command that
// does not exist is a usage error with a "did you mean", not oclif's "Command aps not found." stack.
import { type Command, Errors, Help } from '@oclif/core'
import { failCommandNotFound } from './command-not-found.js'

export default class CfctlHelp extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    try {
      await super.showHelp(argv)
    } catch (error) {
      const missing = error instanceof Errors.CLIError ? /^Command (\S+) not found\.?$/.exec(error.message) : null
      if (!missing) throw error
      failCommandNotFound(missing[1]!, argv, this.config)
    }
  }

  override formatCommand(command: Command.Loadable): string {
    const flags = { ...command.flags }
    // oclif's own --json flag speaks in another voice than cfctl's flags.
    if (flags.json?.description === 'Format output as json.') flags.json = { ...flags.json, description: 'print JSON' }
    return super.formatCommand({
      ...command,
      flags,
      description: command.description && paragraphs(command.description),
    })
  }
}

/**
 * Joins the lines of each paragraph so oclif can wrap it to the terminal once. A blank line ends a paragraph;
 * a line that starts with space, `- ` or `* ` (a list, an indented example) keeps its break.
 */
export function paragraphs(text: string): string {
  return text.replace(/([^\n])\n(?=[^\n\s])(?![-*] )/g, '$1 ')
}
