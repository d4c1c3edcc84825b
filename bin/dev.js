#!/usr/bin/env -S node --import tsx
// Runs the TypeScript sources directly (no build step); used while developing.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { treatClosedStdoutAsDevNull } from './closed-stdout.js'
import { requireSupportedNode } from './node-check.js'

requireSupportedNode()
treatClosedStdoutAsDevNull()
// Imported after the check: an old Node gets the reason, not a failure deep in oclif or a command.
const { execute } = await import('@oclif/core')

// oclif maps dist/ to src/ through tsconfig's rootDir and outDir, which it reads with the TypeScript
// API; TypeScript 7 no longer offers that API, so point oclif at the sources itself.
const root = fileURLToPath(new URL('..', import.meta.url))
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
pjson.oclif = {
  ...pjson.oclif,
  commands: './src/commands',
  helpClass: './src/cli/help.ts',
  hooks: { command_not_found: './src/cli/command-not-found.ts' },
}

await execute({
  development: true,
  dir: import.meta.url,
  loadOptions: { root, pjson, isRoot: true, ignoreManifest: true },
})
