// CPU time of processes and threads from /proc (Linux), for CPU per request: the dispatcher's
// thread of a crashless runtime, its instances, a plain node process. Clock ticks are 10 ms
// (CLK_TCK 100), so a 10 s run at ~50% of a core gives ~500 ticks: good to about 1%.
import fs from 'node:fs'

const TICK_US = 10_000

/** utime + stime of /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat, in µs; null when it is gone. */
function statCpuUs(path) {
  try {
    const text = fs.readFileSync(path, 'utf8')
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_US
  } catch {
    return null
  }
}

/** CPU µs of every thread of `pid`, by tid (the main thread's tid is the pid). */
export function threadsCpuUs(pid) {
  const out = new Map()
  let tids = []
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const tid of tids) {
    const us = statCpuUs(`/proc/${pid}/task/${tid}/stat`)
    if (us !== null) out.set(Number(tid), us)
  }
  return out
}

/** CPU µs of the whole process (all its threads, itself only). */
export function processCpuUs(pid) {
  return statCpuUs(`/proc/${pid}/stat`) ?? 0
}

/**
 * Starts counting: returns a function that gives the CPU µs spent since, as { main, others }
 * for `pid` (its main thread, and its other threads summed).
 */
export function startCpuCount(pid) {
  const before = threadsCpuUs(pid)
  return () => {
    const after = threadsCpuUs(pid)
    let main = 0
    let others = 0
    for (const [tid, us] of after) {
      const spent = us - (before.get(tid) ?? 0)
      if (tid === pid) main += spent
      else others += spent
    }
    return { main, others }
  }
}

/**
 * startCpuCount over several processes (the runtimes of one crashless): main threads summed,
 * others summed, and each process's main thread apart (`mains`, in the order of `pids`: how evenly
 * the kernel spread the connections).
 */
export function startCpuCountAll(pids) {
  const counts = pids.map((pid) => startCpuCount(pid))
  return () => {
    const spent = counts.map((stop) => stop())
    return { main: spent.reduce((n, s) => n + s.main, 0), others: spent.reduce((n, s) => n + s.others, 0), mains: spent.map((s) => s.main) }
  }
}
