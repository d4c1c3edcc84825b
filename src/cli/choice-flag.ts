// A flag that takes one of a few words, in any case: tables print "DEA" and "Diego", so `--backend DEA`
// means dea. (oclif's `options` compare the raw text, before a flag's parse could lower it.)
import { Errors, Flags, type Interfaces } from '@oclif/core'

export function choiceFlag<const T extends string>(
  choices: readonly T[],
  options: { description: string },
): Interfaces.OptionFlag<T | undefined> {
  const flag = Flags.custom<string>({
    ...options,
    helpValue: choices.join('|'),
    async parse(input) {
      const value = input.toLowerCase()
      if (!choices.includes(value as T))
        throw new Errors.CLIError(`expected one of ${choices.join(', ')}, got "${input}"`)
      return value
    },
  })
  return flag() as Interfaces.OptionFlag<T | undefined>
}
