// The one shape of every error cfctl reports, whatever raised it (a command, oclif's parser, an
// unknown command): `error:` and `hint:` lines on stderr and, when the invocation asked for JSON, one
// `{"error":{...}}` line on stdout, so a script that reads stdout always gets JSON.
import { painterFor } from '../ui/text.js'

export interface Problem {
  message: string
  hint?: string
  exitCode: number
  cf?: { status: number; code: number; error_code: string }
}

/** `--json` among the flags (before a `--`), whether or not the command has a JSON mode. */
export function wantsJson(argv: readonly string[]): boolean {
  const json = argv.indexOf('--json')
  const end = argv.indexOf('--')
  return json !== -1 && (end === -1 || json < end)
}

export function reportProblem(problem: Problem, json: boolean): void {
  const paint = painterFor(process.stderr)
  process.stderr.write(`${paint.red('error:')} ${problem.message}\n`)
  if (problem.hint) process.stderr.write(`${paint.dim('hint:')}  ${problem.hint}\n`)
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ error: { message: problem.message, hint: problem.hint, exit_code: problem.exitCode, ...problem.cf } })}\n`,
    )
  }
}

/** The candidate nearest to `word` by edit distance, when it is near enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  // Two edits, or a third of the word: `aps`, `lst`, `enable-deigo` and `--backedn` match; `foo` matches nothing.
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) && bestDistance < word.length
    ? best
    : undefined
}

/** Levenshtein distance, counting a swap of two neighbours as one edit (`deigo` is one from `diego`). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1)
      rows[i]![j] = d
    }
  }
  return rows[a.length]![b.length]!
}
