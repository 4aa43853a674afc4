import { isTakenBack, type Instance } from '../supervise/index.js'
import type { Job } from './job.js'
import type { JobsView } from './job.js'

/**
 * Takes back every request an instance was sent and has not started (it will skip them; see
 * Instance.takeBack) and detaches them from it, so they can run elsewhere, once. Returns them,
 * in the order they were sent. Their attempt on this instance does not count.
 *
 * @example
 * ```ts
 * for (const job of takeBackUnstarted(instance, jobs)) queue.pushFront(job)
 * ```
 */
export function takeBackUnstarted(instance: Instance, jobs: JobsView): Job[] {
  const lastStarted = instance.takeBack()
  if (lastStarted === null) return []
  const moved: Job[] = []
  for (const id of instance.inflight) {
    const job = jobs.get(id)
    if (!job || job.started || !isTakenBack(job.seq, lastStarted)) continue
    instance.inflight.delete(id)
    job.instance = null
    job.attempts--
    moved.push(job)
  }
  return moved
}
