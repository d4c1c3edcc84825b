// `npm run bench [name...]`: runs every bench/*.bench.ts (or those named), prints a table,
// writes bench/results.json with one key per figure (see shared/BENCH.md).
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type Bench, Results } from './lib.js'

const here = dirname(fileURLToPath(import.meta.url))
const wanted = process.argv.slice(2)
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort()

const results = new Results()
let failed = 0
for (const file of files) {
  process.stdout.write(`\n${file}\n`)
  try {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Bench }
    await mod.default(results)
  } catch (error) {
    failed++
    process.stderr.write(`  ${file} failed: ${(error as Error).stack ?? error}\n`)
  }
}
results.write(join(here, 'results.json'))
process.stdout.write(`\nwrote bench/results.json (${results.figures.size} figures)\n`)
process.exitCode = failed > 0 ? 1 : 0
