import { readFileSync } from 'node:fs'

/** Left between V8's stack limit and the OS's: native frames run below V8's check. */
const MARGIN_KB = 512

/** The main thread's stack when /proc/self/limits cannot be read: Linux's usual soft limit. */
const DEFAULT_OS_STACK_KB = 8 * 1024

/**
 * V8's `--stack-size` (KiB) for a child-process instance of `stackMb`: the worker's stack size,
 * but under the main thread's OS stack limit (`ulimit -s`, 8 MiB usually), since past that a
 * deep recursion segfaults instead of throwing a RangeError the instance can attribute.
 *
 * @example
 * ```ts
 * stackSizeKb(4)  // 4096
 * stackSizeKb(16) // 7680 under an 8 MiB ulimit
 * ```
 */
export function stackSizeKb(stackMb: number, limits = readLimits()): number {
  const match = /^Max stack size\s+(\d+|unlimited)/m.exec(limits)
  const osKb = match?.[1] === 'unlimited' ? Infinity : match ? Number(match[1]) / 1024 : DEFAULT_OS_STACK_KB
  return Math.max(256, Math.min(stackMb * 1024, osKb - MARGIN_KB))
}

function readLimits(): string {
  try {
    return readFileSync('/proc/self/limits', 'latin1')
  } catch {
    return ''
  }
}
