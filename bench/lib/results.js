// Writes a result file to bench/results/<name>.json.
import fs from 'node:fs'
import path from 'node:path'
import { RESULTS_DIR } from './paths.js'

export function writeResults(name, data) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true })
  const file = path.join(RESULTS_DIR, `${name}.json`)
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n')
  return file
}
