// cfctl's journal and the embedded foundation's store use node:sqlite, which Node.js has offered without a
// flag since 22.13 (and 23.4). On an older Node, say so at once instead of failing deep in a command with
// "No such built-in module: node:sqlite". Plain JavaScript with no imports, so any Node can read it.

/** Why this Node cannot run cfctl, or undefined when it can. `version` is process.versions.node. */
export function unsupportedNode(version) {
  const [major, minor] = version.split('.').map(Number)
  if (major >= 24 || (major === 23 && minor >= 4) || (major === 22 && minor >= 13)) return undefined
  return (
    `error: cfctl needs Node.js 22.13 or newer (24 LTS is the target); this is Node.js ${version} (${process.execPath})\n` +
    'hint:  put Node.js 24 first on PATH (e.g. nvm install 24), or, in a clone of cfctl, run `npm run cfctl -- ARGS`, which fetches Node.js 24 when the node on PATH is older\n'
  )
}

/** Ends the process with the reason when this Node is too old. */
export function requireSupportedNode() {
  const problem = unsupportedNode(process.versions.node)
  if (problem === undefined) return
  process.stderr.write(problem)
  process.exit(1)
}
