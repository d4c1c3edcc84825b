// An unknown command (`cfctl aps`, `cfctl migrations lst`), as a usage error in cfctl's style with a
// "did you mean": oclif's `command_not_found` hook (package.json "oclif.hooks") and the help class call it.
import { Errors, type Hook, type Interfaces } from '@oclif/core'
import { closest, type Problem, reportProblem, wantsJson } from './problem.js'
import { spoken } from './usage.js'

/** What to say about `id` (oclif's colon form, which may have swallowed arguments: `enable-deigo:my-app`). */
export function commandNotFound(id: string, config: Pick<Interfaces.Config, 'bin' | 'commandIDs' | 'topics'>): Problem {
  const { bin } = config
  const parts = id.split(':')
  const known = [...config.commandIDs, ...config.topics.map((topic) => topic.name)]
  for (let typed = parts.length; typed > 0; typed--) {
    const parent = parts.slice(0, typed - 1).join(':')
    const prefix = parts.slice(0, typed).join(':')
    // oclif joins the words after a command without arguments into its id: `apps extra` is `apps:extra`.
    if (config.commandIDs.includes(prefix) && typed < parts.length) {
      const extra = parts.slice(typed)
      return {
        message: `unexpected argument${extra.length === 1 ? '' : 's'}: ${extra.join(', ')}`,
        hint: `usage: ${bin} ${spoken(prefix)} [FLAGS]  (${bin} ${spoken(prefix)} --help for more)`,
        exitCode: 2,
      }
    }
    if (known.includes(prefix) && typed < parts.length) {
      return {
        message: `unknown command "${spoken(parts.slice(0, typed + 1).join(':'))}"`,
        hint: `${bin} ${spoken(prefix)} --help lists its commands`,
        exitCode: 2,
      }
    }
    // A typo is looked for among the siblings: `migrations lst` against the migrations commands only.
    const siblings = known.filter((other) => other.slice(0, Math.max(0, other.lastIndexOf(':'))) === parent)
    const leaf = closest(
      parts[typed - 1]!,
      siblings.map((other) => other.slice(other.lastIndexOf(':') + 1)),
    )
    if (leaf) {
      const guess = parent ? `${parent}:${leaf}` : leaf
      return {
        message: `unknown command "${spoken(prefix)}"`,
        hint: `did you mean ${bin} ${spoken(guess)}? (${bin} help lists the commands)`,
        exitCode: 2,
      }
    }
  }
  return { message: `unknown command "${parts[0]}"`, hint: `${bin} help lists the commands`, exitCode: 2 }
}

/** Says what is wrong (as JSON on stdout too when asked) and ends with exit 2. */
export function failCommandNotFound(id: string, argv: readonly string[], config: Interfaces.Config): never {
  const problem = commandNotFound(id, config)
  reportProblem(problem, wantsJson(argv))
  throw new Errors.ExitError(problem.exitCode)
}

const hook: Hook.CommandNotFound = async ({ id, argv, config }) => {
  failCommandNotFound(id, argv ?? [], config)
}

export default hook
