// Writes a result file: bench/results/<name>.json (committed), or for smoke runs (scratch = true)
// bench/results/scratch/<name>.json (git-ignored), so a --quick run never replaces real results.
import fs from 'node:fs'
import path from 'node:path'
import { RESULTS_DIR, SCRATCH_DIR } from './paths.js'

export function writeResults(name, data, { scratch = false } = {}) {
  const dir = scratch ? SCRATCH_DIR : RESULTS_DIR
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `${name}.json`)
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n')
  return file
}
