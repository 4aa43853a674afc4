// The campaign's fault injector (API.md "Faults"): arms a fault by writing the arm file atomically
// (temp file in the same directory, then rename onto EBID_FAULT_FILE), so a request never reads
// half a file. The request that takes the shot renames the file to `<file>.taken.<pid>.<threadId>`;
// those files tell which shots were taken, and by which process.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { onCleanup } from '../cleanup.js'

/**
 * A fresh directory holding one run's arm file (removed by close() or the cleanup registry).
 * arm(kind, component, atMs) arms the next shot; close() returns [{ shot, atMs, takenBy|null }].
 */
export function faultInjector(tag) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `crashless-bench-${tag}-`))
  const file = path.join(dir, 'fault.json')
  const prefix = `${path.basename(file)}.taken.`
  const shots = []
  const remove = () => fs.rmSync(dir, { recursive: true, force: true })
  const unregister = onCleanup(remove)

  // Collected before every arm: one process taking two shots would otherwise reuse one file name.
  function collectTaken() {
    for (const name of fs.readdirSync(dir)) {
      if (!name.startsWith(prefix)) continue
      const full = path.join(dir, name)
      let shot
      try {
        shot = JSON.parse(fs.readFileSync(full, 'utf8')).shot
      } catch {
        continue // renamed a moment ago and not readable yet: next time
      }
      const record = shots.find((s) => s.shot === shot)
      if (record) record.takenBy = name.slice(prefix.length)
      fs.rmSync(full, { force: true })
    }
  }

  function arm(kind, component, atMs) {
    collectTaken()
    const shot = shots.length + 1
    const temp = `${file}.tmp.${shot}`
    fs.writeFileSync(temp, JSON.stringify({ kind, component, shot }))
    fs.renameSync(temp, file)
    shots.push({ shot, atMs, takenBy: null })
  }

  let closed = false
  function close() {
    if (closed) return shots
    closed = true
    collectTaken()
    unregister()
    remove()
    return shots
  }

  return { file, arm, close }
}
