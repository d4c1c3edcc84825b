// `npm run bench [name...]`: runs every bench/*.bench.ts (or those named), prints a table,
// writes bench/results.json with one key per figure (see shared/BENCH.md).
// Each bench file runs in a process of its own, so that one's heap (a 50,000-app foundation, say) does not
// weigh on the next one's timings. Naming some benches updates their keys and keeps the others' figures.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type Bench, type Figure, Results } from './lib.js'

const here = dirname(fileURLToPath(import.meta.url))
const resultsPath = join(here, 'results.json')
const ONE = '--one'

if (process.argv[2] === ONE) await runOne(process.argv[3]!, process.argv[4]!)
else await runAll(process.argv.slice(2))

/** In the child: one bench file, its figures written to `out` as JSON. */
async function runOne(file: string, out: string): Promise<void> {
  const results = new Results()
  try {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Bench }
    await mod.default(results)
  } catch (error) {
    process.stderr.write(`  ${file} failed: ${(error as Error).stack ?? error}\n`)
    process.exitCode = 1
  }
  results.write(out)
}

async function runAll(wanted: string[]): Promise<void> {
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
    .sort()
  if (files.length === 0) {
    process.stderr.write(
      `no bench matches ${wanted.join(', ')}; the benches: ${readdirSync(here)
        .filter((f) => f.endsWith('.bench.ts'))
        .join(', ')}\n`,
    )
    process.exitCode = 2
    return
  }
  // A run of some benches keeps the figures of the others from the last run.
  const results = new Results()
  if (wanted.length > 0) mergeFigures(results, resultsPath)
  const dir = mkdtempSync(join(tmpdir(), 'cfctl-bench-run-'))
  let failed = 0
  try {
    for (const file of files) {
      process.stdout.write(`\n${file}\n`)
      const out = join(dir, `${file}.json`)
      const code = await child(file, out)
      if (code !== 0) failed++
      mergeFigures(results, out)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  results.write(resultsPath)
  process.stdout.write(`\nwrote bench/results.json (${results.figures.size} figures)\n`)
  process.exitCode = failed > 0 ? 1 : 0
}

/** Adds the figures of a results file, when there is one, over those already held. */
function mergeFigures(results: Results, path: string): void {
  if (!existsSync(path)) return
  for (const [key, figure] of Object.entries(JSON.parse(readFileSync(path, 'utf8')) as Record<string, Figure>)) {
    results.figures.set(key, figure)
  }
}

/** Runs one bench file in a fresh node with this process's flags (--expose-gc, the TypeScript loader). */
function child(file: string, out: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ONE, file, out], {
      stdio: 'inherit',
    })
    proc.on('error', reject)
    proc.on('close', (code) => resolve(code ?? 1))
  })
}
