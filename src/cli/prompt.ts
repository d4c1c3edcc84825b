// Asking the person at the terminal: a line, a secret (not echoed), a yes/no. Only on a TTY; without one,
// the caller must have been given the answer as a flag, and says which.
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { UsageError } from '../core/errors.js'

export function interactive(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true
}

export async function ask(question: string, options: { secret?: boolean; flag: string }): Promise<string> {
  if (!interactive()) throw new UsageError(`${options.flag} is required when stdin is not a terminal`)
  let muted = false
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk)
      done()
    },
  })
  const rl = createInterface({ input: process.stdin, output, terminal: true })
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.question(question, (answer) => {
        if (options.secret) process.stderr.write('\n')
        resolve(answer)
      })
      muted = options.secret === true
      rl.once('SIGINT', () => reject(new UsageError('cancelled')))
    })
  } finally {
    rl.close()
  }
}

export async function confirm(question: string, flag: string): Promise<boolean> {
  const answer = await ask(`${question} [y/N] `, { flag })
  return /^y(es)?$/i.test(answer.trim())
}

/** More than this many orgs or spaces are not listed; the operator types a name, as with `cf login`. */
const LISTED_CHOICES = 50

/** `cf login`'s org and space pick: a numbered list, a number or a name, Enter to skip. */
export async function choose(kind: 'org' | 'space', names: readonly string[]): Promise<string | undefined> {
  const flag = kind === 'org' ? '--org (-o)' : '--space (-s)'
  process.stderr.write(`\nSelect ${kind === 'org' ? 'an org' : 'a space'} (or press Enter to skip):\n`)
  if (names.length <= LISTED_CHOICES) process.stderr.write(names.map((name, i) => `${i + 1}. ${name}\n`).join(''))
  else process.stderr.write(`There are ${names.length}; type a name.\n`)
  for (let attempt = 0; attempt < 3; attempt++) {
    const answer = await ask(`\n${kind === 'org' ? 'Org' : 'Space'}> `, { flag })
    const picked = pickChoice(names, answer)
    if (picked !== null) return picked
    process.stderr.write(`"${answer.trim()}" is not one of the ${kind}s above\n`)
  }
  return undefined
}

/** A number from the list or a name (in any case); undefined for Enter; null when it is neither. */
export function pickChoice(names: readonly string[], answer: string): string | undefined | null {
  const text = answer.trim()
  if (text === '') return undefined
  if (/^\d+$/.test(text)) return names[Number(text) - 1] ?? null
  return names.find((name) => name.toLowerCase() === text.toLowerCase()) ?? null
}
