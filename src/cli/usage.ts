// oclif's invocation errors (an unknown flag, a bad value, a missing argument, an unknown command) as
// cfctl's one-line usage errors (exit 2): no stack, no oclif internals, the command named as typed
// (`migrations list`, not `migrations:list`), a "did you mean" when a close name exists, and the
// command's --help named instead of its whole usage block.
import { Errors } from '@oclif/core'
import { closest, type Problem } from './problem.js'

/** What a usage error needs to know of the command: its id, flags and arguments. */
export interface CommandShape {
  id?: string
  flags?: Record<string, { hidden?: boolean }>
  baseFlags?: Record<string, { hidden?: boolean }>
  args?: Record<string, { required?: boolean }>
  enableJsonFlag?: boolean
}

/** `migrations:list` as the operator types it. */
export function spoken(id: string): string {
  return id.replaceAll(':', ' ')
}

/** A usage problem for one of oclif's parse errors, or undefined when the error is something else. */
export function usageProblem(error: unknown, command: CommandShape, bin = 'cfctl'): Problem | undefined {
  // Parse errors carry `parse`; a flag value its parser refused (an integer flag's `x`) is a plain CLIError
  // whose message oclif prefixes with `Parsing --flag`.
  if (!(error instanceof Errors.CLIError) || !('parse' in error || /^Parsing --/.test(error.message))) return undefined
  const name = command.id ? `${bin} ${spoken(command.id)}` : bin
  const help = `${name} --help`
  const unknown = (error as { flags?: unknown }).flags
  if (Array.isArray(unknown) && unknown.length > 0) {
    const flags = unknown.map(String)
    const guess =
      flags.length === 1 && flags[0]!.startsWith('--')
        ? closest(flags[0]!.replace(/=.*/, ''), flagSpellings(command))
        : undefined
    return {
      message: `unknown flag${flags.length === 1 ? '' : 's'} ${flags.join(', ')}`,
      hint: guess ? `did you mean ${guess}? (${help} lists the flags)` : `${help} lists the flags`,
      exitCode: 2,
    }
  }
  const args = Object.entries(command.args ?? {})
  const expected = args.map(([arg, spec]) => (spec.required ? arg.toUpperCase() : `[${arg.toUpperCase()}]`))
  const usage = `usage: ${name}${expected.length > 0 ? ` ${expected.join(' ')}` : ''} [FLAGS]  (${help} for more)`
  if (/^Missing \d+ required arg/.test(error.message)) {
    const missing = args.filter(([, spec]) => spec.required).map(([arg]) => arg.toUpperCase())
    return { message: `missing ${missing.join(' ') || 'argument'}`, hint: usage, exitCode: 2 }
  }
  if (/^Unexpected argument/.test(error.message)) {
    return { message: oneLine(error.message).replace(/^Unexpected/, 'unexpected'), hint: usage, exitCode: 2 }
  }
  return { message: oneLine(error.message), hint: `see ${help}`, exitCode: 2 }
}

/** oclif's multi-line parse messages as one line: `--csv cannot also be provided when using --json`. */
function oneLine(message: string): string {
  return (
    message
      // biome-ignore lint/suspicious/noControlCharactersInRegex: oclif colours parts of its messages
      .replace(/\u001b\[[0-9;]*m/g, '')
      .replace(/\n\s*See more help with --help\s*$/, '')
      .replace(/^The following errors? occurred:\s*/, '')
      .replace(/^Parsing (--[\w-]+)\s*\n\s*/, '$1: ')
      .replace(/(--[\w-]+)=true\b/g, '$1')
      .split(/\s*\n\s*/)
      .filter((line) => line !== '' && !line.startsWith('See more help'))
      .join('; ')
  )
}

function flagSpellings(command: CommandShape): string[] {
  const all = { ...command.baseFlags, ...command.flags }
  const spellings: string[] = []
  for (const [flag, spec] of Object.entries(all)) {
    if (spec.hidden) continue
    spellings.push(`--${flag}`)
  }
  if (command.enableJsonFlag) spellings.push('--json')
  return spellings
}
