import { constants, setPriority } from 'node:os'
import { threadId } from './thread-id.js'

/**
 * Lowers the scheduling priority of the calling thread to the lowest there is (nice 19), so it
 * runs only on CPU that other threads leave idle. On Linux nice values are per thread, and
 * setpriority(2) accepts a thread id where it takes a pid. Elsewhere it does nothing: the caller
 * must not depend on it. Returns whether the priority was lowered.
 *
 * @example
 * ```ts
 * lowerPriority() // a sacrificial instance: a poison looping here yields to serving instances
 * ```
 */
export function lowerPriority(): boolean {
  const tid = threadId()
  if (tid === null) return false
  try {
    setPriority(tid, constants.priority.PRIORITY_LOW)
    return true
  } catch {
    return false
  }
}
