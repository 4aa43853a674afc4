// Well-known paths of the bench: repo root, apps, results and (git-ignored) scratch logs.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const REPO_DIR = path.resolve(BENCH_DIR, '..')
export const APPS_DIR = path.join(BENCH_DIR, 'apps')
export const RESULTS_DIR = path.join(BENCH_DIR, 'results')
export const SCRATCH_DIR = path.join(RESULTS_DIR, 'scratch')

export function scratchFile(name) {
  fs.mkdirSync(SCRATCH_DIR, { recursive: true })
  return path.join(SCRATCH_DIR, name)
}
