# Sourced by .ci/run and scripts/with-node: puts a Node.js >= 22.13 (node:sqlite without a flag) first on PATH.
# Machines that ship an older node get node@24 from the npm registry, cached under ~/.cache.
cfctl_node_ok() {
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>=24||(a===23&&b>=4)||(a===22&&b>=13)?0:1)' 2>/dev/null
}
if ! cfctl_node_ok; then
  cfctl_prefix="${CFCTL_NODE_PREFIX:-$HOME/.cache/cfctl-node24}"
  if [ ! -x "$cfctl_prefix/node_modules/node/bin/node" ]; then
    echo "cfctl: node $(node --version 2>/dev/null || echo '(none)') is older than 22.13; installing node@24 from the npm registry into $cfctl_prefix" >&2
    mkdir -p "$cfctl_prefix"
    npm install --prefix "$cfctl_prefix" --no-save --no-audit --no-fund --loglevel=error node@24 >&2
  fi
  PATH="$cfctl_prefix/node_modules/node/bin:$PATH"
  export PATH
fi
