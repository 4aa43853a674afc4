#!/usr/bin/env bash
# Makes node_modules' native addon (better-sqlite3) match the `node` on PATH. A build is kept
# per Node ABI in the same cache as the Node binaries, so switching versions is a copy after
# the first run; a copy that does not load is rebuilt from source against that Node's headers
# (npm_config_nodedir: node-gyp may not download them here).
#   PATH="$dir/bin:$PATH" .ci/native-modules.sh "$dir"     ($dir: a Node from .ci/fetch-node.sh, or /usr)
set -euo pipefail
nodedir="$1"
cache="${CRASHLESS_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crashless-ci/node}/addons"
abi="$(node -p process.versions.modules)"
version="$(node -p "require('./node_modules/better-sqlite3/package.json').version")"
built=node_modules/better-sqlite3/build/Release/better_sqlite3.node
kept="$cache/better-sqlite3-$version-abi$abi.node"
loads() { node -e "new (require('better-sqlite3'))(':memory:').close()" >/dev/null 2>&1; }

keep() { mkdir -p "$cache" && cp "$built" "$kept"; }

if loads; then
  [ -f "$kept" ] || keep
  exit 0
fi
if [ -f "$kept" ]; then
  mkdir -p "$(dirname "$built")"
  cp "$kept" "$built"
  if loads; then exit 0; fi
fi
npm_config_nodedir="$nodedir" npm rebuild better-sqlite3 --no-audit --no-fund
loads || { echo "better-sqlite3 does not load on node $(node --version) after a rebuild" >&2; exit 1; }
keep
