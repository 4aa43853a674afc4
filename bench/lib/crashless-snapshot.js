// A private copy of the built crashless (bin/, dist/, package.json; node_modules symlinked) in a
// temp dir, taken once per bench run: other engineers rebuilding dist/ while a bench runs must not
// change (or break) the crashless being measured half-way. Removed by the cleanup registry.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { onCleanup } from './cleanup.js'
import { REPO_DIR } from './paths.js'
import { sleep } from './wait-ready.js'

function newestMtimeMs(dir) {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const m = fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs
    if (m > newest) newest = m
  }
  return newest
}

/** Copies the current build once dist/ has been quiet for quietMs; returns the snapshot root. */
export async function snapshotCrashless({ quietMs = 3000, maxWaitMs = 60_000 } = {}) {
  const dist = path.join(REPO_DIR, 'dist')
  const deadline = Date.now() + maxWaitMs
  while (Date.now() - newestMtimeMs(dist) < quietMs && Date.now() < deadline) await sleep(500)
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crashless-bench-snap-'))
  onCleanup(() => fs.rmSync(root, { recursive: true, force: true }))
  fs.cpSync(path.join(REPO_DIR, 'bin'), path.join(root, 'bin'), { recursive: true })
  fs.cpSync(dist, path.join(root, 'dist'), { recursive: true })
  fs.copyFileSync(path.join(REPO_DIR, 'package.json'), path.join(root, 'package.json'))
  fs.symlinkSync(path.join(REPO_DIR, 'node_modules'), path.join(root, 'node_modules'), 'dir')
  return root
}
