// Which level of crashless's recovery acted in a campaign run, and how much work the reboots
// lost, from its pino log (README "Components": the ladder of levels and its log lines).
//
// Levels, lowest first:
//   request    the failing request alone: a suppressed crash, the recovery ladder's re-runs and
//              cures, a quarantine, a deadline, a commit conflict re-run, a 5xx re-served
//   instance   an instance swapped for its spare: lost, rejuvenated, ejected for its answers
//   component  a component rebooted whole (`reboot`, scope component)
//   group      a restart group rebooted (`reboot`, scope group)
//   runtime    the keeper swapped in its standby (`escalate`, scope runtime; a runtime death)
import fs from 'node:fs'

export const LEVELS = ['request', 'instance', 'component', 'group', 'runtime']

// A suppressed crash fails its request alone and taints its instance, which is replaced.
const BY_EVENT = {
  'request-crashed': ['request', 'instance'],
  'ladder-step': 'request',
  cured: 'request',
  quarantined: 'request',
  deadline: 'request',
  'commit-conflict': 'request',
  'answer-reserved': 'request',
  evacuated: 'request',
  culprit: 'request',
  'instance-lost': 'instance',
  rejuvenated: 'instance',
  ejected: 'instance',
  'reboot:component': 'component',
  'reboot:group': 'group',
  'escalate:runtime': 'runtime',
  'runtime-died': 'runtime',
}

/** The levels that acted, lowest first, from countLogEvents' counts. */
export function levelsActed(events = {}) {
  const acted = new Set()
  for (const [event, n] of Object.entries(events)) if (n > 0 && BY_EVENT[event]) for (const level of [BY_EVENT[event]].flat()) acted.add(level)
  return LEVELS.filter((level) => acted.has(level))
}

/**
 * What crashless's instance swaps cost in one run, from its log: instances replaced (lost,
 * rejuvenated, ejected, or in a component's reboot), and requests that were running on an
 * instance when it was lost, so had to be re-run (or failed): the work lost. Requests a tainted
 * or rejuvenated instance finishes are not lost.
 */
export function lostWork(logFile) {
  const out = { instancesReplaced: 0, requestsOnLostInstances: 0 }
  let text = ''
  try {
    text = fs.readFileSync(logFile, 'utf8')
  } catch {
    return out
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    let entry
    try {
      entry = JSON.parse(line)
    } catch {
      continue
    }
    switch (entry.event) {
      case 'instance-lost':
        if (entry.role !== 'sacrificial') out.instancesReplaced++
        out.requestsOnLostInstances += (entry.reserved ?? 0) + (entry.isolated ?? 0) + (entry.failed ?? 0) + (entry.cut ?? 0)
        break
      case 'request-crashed':
        // The instance is tainted and replaced once its other requests finish.
        if (entry.role !== 'sacrificial') out.instancesReplaced++
        break
      case 'rejuvenated':
      case 'ejected':
        out.instancesReplaced++
        break
      case 'reboot':
        out.instancesReplaced += entry.instances ?? 0
        break
      case 'deadline':
        if (String(entry.action).includes('instance replaced')) out.instancesReplaced++
        break
      case 'evacuated':
        out.requestsOnLostInstances += (entry.moved ?? 0) + (entry.isolated ?? 0)
        break
    }
  }
  return out
}
