import { readlinkSync } from 'node:fs'

/**
 * The operating system's id of the calling thread (Linux: from /proc/thread-self, see proc(5)),
 * or null elsewhere. Node's `threadId` is its own numbering, which the kernel does not know.
 *
 * @example
 * ```ts
 * threadId() // 48213
 * ```
 */
export function threadId(): number | null {
  if (process.platform !== 'linux') return null
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    return Number.isInteger(tid) && tid > 0 ? tid : null
  } catch {
    return null
  }
}
