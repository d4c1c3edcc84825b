// cfctl's journal and the embedded foundation's store use node:sqlite, which Node.js has offered without a
// flag since 22.13 (and 23.4). On an older Node, say so at once instead of failing deep in a command with
// "No such built-in module: node:sqlite". Plain JavaScript with no imports, so any Node can read it.

/** Why this Node cannot run cfctl ({ message, hint }), or undefined when it can. `version` is process.versions.node. */
export function unsupportedNode(version) {
  const [major, minor] = version.split('.').map(Number)
  if (major >= 24 || (major === 23 && minor >= 4) || (major === 22 && minor >= 13)) return undefined
  return {
    message: `cfctl needs Node.js 22.13 or newer (24 LTS is the target); this is Node.js ${version} (${process.execPath})`,
    hint: 'put Node.js 24 first on PATH (e.g. nvm install 24), or, in a clone of cfctl, run `npm run cfctl -- ARGS`, which fetches Node.js 24 when the node on PATH is older',
  }
}

/** Ends the process (exit 1) with the reason when this Node is too old; in cfctl's error shape, JSON too with --json. */
export function requireSupportedNode(argv = process.argv.slice(2)) {
  const problem = unsupportedNode(process.versions.node)
  if (problem === undefined) return
  process.stderr.write(`error: ${problem.message}\nhint:  ${problem.hint}\n`)
  const end = argv.indexOf('--')
  const json = argv.indexOf('--json')
  if (json !== -1 && (end === -1 || json < end))
    process.stdout.write(`${JSON.stringify({ error: { ...problem, exit_code: 1 } })}\n`)
  process.exit(1)
}
