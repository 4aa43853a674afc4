// Counts the `event` fields of a crashless pino JSON log (one object per line), leaving out the
// routine lifecycle events, e.g. { 'instance-lost': 10 }. Events of the restart tree count by
// level too: `reboot:component`, `reboot:group`, `escalate:runtime`.
import fs from 'node:fs'

const ROUTINE = new Set(['listening', 'ready', 'shutdown', 'stopped', 'draining'])

export function countLogEvents(file) {
  const counts = {}
  let text = ''
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return counts
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      const entry = JSON.parse(line)
      const event = typeof entry.scope === 'string' && typeof entry.event === 'string' ? `${entry.event}:${entry.scope}` : entry.event
      if (typeof event === 'string' && !ROUTINE.has(event)) counts[event] = (counts[event] ?? 0) + 1
    } catch {
      // not a JSON log line
    }
  }
  return counts
}
