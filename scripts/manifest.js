#!/usr/bin/env node
// Writes oclif.manifest.json from the built commands (what `oclif manifest` does), so a cold start
// reads one JSON file instead of importing every command module to learn their flags.
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Config } from '@oclif/core'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const config = await Config.load({ root, ignoreManifest: true })
const manifest = config.getPluginsList().find((plugin) => plugin.root === root)?.manifest
if (!manifest || Object.keys(manifest.commands).length === 0) {
  process.stderr.write('manifest: no commands found under dist/commands; build first\n')
  process.exit(1)
}
writeFileSync(join(root, 'oclif.manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
process.stdout.write(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands\n`)
