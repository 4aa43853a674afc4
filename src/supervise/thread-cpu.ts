import { readFileSync } from 'node:fs'

/**
 * Linux's clock ticks per second for /proc times (sysconf(_SC_CLK_TCK)); 100 on every mainstream
 * kernel configuration, and Node offers no way to ask.
 */
const TICKS_PER_SECOND = 100

/**
 * CPU time (user + system, ms) a thread has used, from /proc/<pid>/task/<tid>/stat (fields 14
 * and 15, see proc(5)), or null when that cannot be read (not Linux, thread gone). `pid` is
 * `self` for a thread of this process (a worker-thread instance), else a child-process
 * instance's pid.
 * 10 ms resolution. Used to tell a thread that is stuck from one that is only starved: a
 * low-priority instance may wait for the CPU a long time without being hung.
 *
 * @example
 * ```ts
 * threadCpuMs(tid) // 1230: the thread ran 1.23 s so far
 * ```
 */
export function threadCpuMs(tid: number, pid: number | 'self' = 'self'): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1')
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : null
  } catch {
    return null
  }
}

/** Linux's page size on x86-64 and most arm64 kernels; Node offers no way to ask. */
const PAGE_BYTES = 4096

/**
 * Memory (MiB) a thread (of `pid`, as above) has touched for the first time so far: its minor page
 * faults (field 10 of /proc/self/task/<tid>/stat) times the page size, or null when that cannot
 * be read. A thread filling a heap faults on its new pages (checked on Node 20: 40% to 100% of
 * the process's growth, the rest faulted by V8's helper threads); one spinning in a loop, none.
 * So it tells whose growth it was, not how much.
 *
 * @example
 * ```ts
 * threadFaultsMb(tid) // 312.5
 * ```
 */
export function threadFaultsMb(tid: number, pid: number | 'self' = 'self'): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1')
    const faults = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7])
    return Number.isFinite(faults) ? (faults * PAGE_BYTES) / (1024 * 1024) : null
  } catch {
    return null
  }
}
