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
