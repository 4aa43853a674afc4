import type { Logger } from 'pino'
import type { Tweak } from '../immunity/index.js'
import { decideEvacuee, unreachable } from '../recovery/index.js'
import type { Instance } from '../supervise/index.js'
import type { Job } from './job.js'
import type { GuardHost } from './poison-guard.js'
import { takeBackUnstarted } from './take-back.js'
import type { RunFailure } from './trial.js'

/**
 * Requests waiting in a stalled instance cannot progress until it is killed at the end of its
 * lease: move them now. Those it has not started are taken back (the instance will skip them),
 * so they move whatever their method, and run once. Once the stall reaches half a lease
 * (`late`), replayable requests it did start move too: if the instance recovers after all, it
 * is told to drop them and whatever it answers is ignored (only the current attempt's answer
 * counts), so a request is answered once; such a request may run twice, which RFC 9110 allows
 * for idempotent ones. Which started requests move is decideEvacuee's call (src/recovery).
 *
 * @example
 * ```ts
 * evacuate(instance, stalledRequestId, late, host, (job, failure) => guard.isolate(job, failure), config.recovery, log)
 * ```
 */
export function evacuate(instance: Instance, running: number | null, late: boolean, host: GuardHost, isolate: (job: Job, failure: RunFailure) => void, limits: { readonly ladder: readonly Tweak[] }, log: Logger): void {
  const unstarted = takeBackUnstarted(instance, host.jobs)
  for (const job of [...unstarted].reverse()) host.requeue(job)
  let moved = unstarted.length
  let isolated = 0
  for (const id of instance.inflight) {
    const job = host.jobs.get(id)
    if (!job) continue
    const action = decideEvacuee({ running: id === running, started: job.started, replayable: job.replayable }, { late, runningKnown: running !== null }, limits)
    if (action.do === 'stay') continue
    instance.inflight.delete(id)
    instance.post({ type: 'abort', id })
    job.instance = null
    job.attempts--
    switch (action.do) {
      case 'isolate':
        // Nothing runs synchronously in it, yet it is stuck: one of these waiting requests may
        // have started the loop (from a timer). They are suspects, not innocents.
        isolate(job, { how: 'lease-expired', error: null, instance, spent: true })
        isolated++
        break
      case 're-serve':
        host.requeue(job)
        moved++
        break
      default:
        unreachable(action)
    }
  }
  if (moved + isolated === 0) return
  log.info({ event: 'evacuated', instance: instance.id, moved, isolated, running: running === null ? null : (host.jobs.get(running)?.requestId ?? null) }, `instance ${instance.id} stalled; re-serving ${moved + isolated} waiting request(s) elsewhere`)
  host.pump()
}
