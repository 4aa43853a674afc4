import { writeSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { INSTANCE_ENV, LEASE_FD, LEASE_SLOTS, LeaseSlot, type InstanceInit } from '../protocol.js'
import type { InstanceLink } from './instance-link.js'
import { currentRequestId } from './request-context.js'

/**
 * The link of an instance running as a child process (`isolation: 'process'`). Nothing is
 * shared with the dispatcher, so:
 *
 * - messages go through the IPC channel (`serialization: 'advanced'`, which copies
 *   ArrayBuffers);
 * - the lease block lives here and is written whole (24 bytes, one pwrite: ~1 µs measured on
 *   tmpfs and ext4) to the lease file at each handler's start and end and on each heartbeat, where
 *   the dispatcher reads it on its own schedule. A handler that never returns, or that takes
 *   the process down (an abort, a segfault in a native addon), was published as running
 *   before it ran, so it is the one blamed. Over IPC that would cost a message per request
 *   and arrive too late: a message queued by a handler that aborts never leaves;
 * - the start gate's compare-and-swap becomes a message (`take-back`), answered in order.
 *
 * The child must not outlive the runtime: it exits when its IPC channel closes, and a helper
 * thread (orphan-watch.ts) kills it when its parent changes, which also covers an event loop
 * stuck in a loop, where no `disconnect` event can run.
 */
export function openProcessLink(): InstanceLink {
  const raw = process.env[INSTANCE_ENV]
  if (raw === undefined || !process.send) throw new Error(`an instance must be started by crashless (${INSTANCE_ENV} and an IPC channel)`)
  // The app must not see crashless's plumbing in its environment.
  delete process.env[INSTANCE_ENV]
  const init = JSON.parse(raw) as InstanceInit
  const lease = new Int32Array(LEASE_SLOTS)
  const bytes = new Uint8Array(lease.buffer)
  const publish = (): void => {
    try {
      writeSync(LEASE_FD, bytes, 0, bytes.byteLength, 0)
    } catch {
      // The runtime is gone (the orphan watch ends this process) or the descriptor was closed.
    }
  }
  const kill = process.kill.bind(process)
  process.on('disconnect', () => kill(process.pid, 'SIGKILL'))
  new Worker(new URL('./orphan-watch.js', import.meta.url), { workerData: { parent: process.ppid } }).unref()
  stampCulprit(lease, publish)
  return {
    init,
    lease,
    send: (batch) => {
      if (process.connected) process.send!(batch)
    },
    onBatch: (receive) => void process.on('message', receive),
    publish,
    release: () => process.channel?.unref(),
  }
}

/**
 * `process.abort()` and `process.kill(process.pid, ...)` end the whole process at once, and in a
 * child process that is this instance: whichever request called them is named in the lease's
 * Running slot first, so the dispatcher blames it even when it called them from a timer or a
 * promise of its own (the slot names only synchronous handler code otherwise).
 */
function stampCulprit(lease: Int32Array, publish: () => void): void {
  const stamp = (): boolean => {
    const id = currentRequestId()
    if (id === null || Atomics.load(lease, LeaseSlot.Running) !== 0) return false
    Atomics.store(lease, LeaseSlot.Running, id)
    publish()
    return true
  }
  const unstamp = (): void => {
    Atomics.store(lease, LeaseSlot.Running, 0)
    publish()
  }
  const abort = process.abort.bind(process)
  process.abort = (): never => {
    stamp()
    return abort()
  }
  const kill = process.kill.bind(process)
  process.kill = (pid: number, signal?: string | number): true => {
    const stamped = (pid === process.pid || pid === 0) && stamp()
    try {
      return kill(pid, signal)
    } finally {
      // Still alive: the signal was handled (or ignored), so nobody is to blame.
      if (stamped) unstamp()
    }
  }
}
