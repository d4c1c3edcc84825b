#!/usr/bin/env node
// The installed entry point. Kept small: a cold start is what every cfctl command pays before it runs.
import module from 'node:module'
import { treatClosedStdoutAsDevNull } from './closed-stdout.js'
import { relaunchWithHeapFlags } from './heap-flags.js'
import { requireSupportedNode } from './node-check.js'

requireSupportedNode()
// `cfctl server` and `cfctl dashboard` run in a child Node started with HEAP_FLAGS (see heap-flags.js).
if (!relaunchWithHeapFlags()) await run()

async function run() {
  treatClosedStdoutAsDevNull()

  // Node's compile cache (22.1+) keeps V8's compiled code for every module loaded here on disk (in
  // os.tmpdir()/node-compile-cache, or $NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off),
  // so starts after the first skip compiling oclif's modules. It must be on before they are imported,
  // hence the dynamic import below.
  module.enableCompileCache?.()

  // `cfctl server` seeds users whose password hashes take a while: a worker begins them now, while the CLI
  // framework and the foundation load (dist/scheduler/secrets-ahead.js).
  if (process.argv[2] === 'server') {
    const { startSeedSecrets } = await import('../dist/scheduler/secrets-ahead.js')
    startSeedSecrets(process.argv.slice(3))
  }

  // The `execute` subpath rather than the `@oclif/core` barrel: the barrel also loads the parser, the
  // flag and arg builders and semver (for a Node version check the `engines` field already states),
  // which a command imports itself when it needs them.
  const { execute } = await import('@oclif/core/execute')

  // cfctl has no plugins: skip looking for user-installed (~/.local/share/cfctl) and dev plugins.
  await execute({
    dir: import.meta.url,
    loadOptions: { root: import.meta.dirname, userPlugins: false, devPlugins: false },
  })
}
