import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import type { InstanceInit, InstanceMessage, ToInstance } from '../protocol.js'
import { packFromInstance, unpackToInstance } from '../wire.js'
import { openProcessLink } from './process-link.js'

/**
 * How an instance talks to its dispatcher. The instance's code (worker-main.ts) is the same in
 * both isolation modes; only this differs: a worker thread posts to its parent port and shares
 * its lease block, a child process sends through its IPC channel and mirrors the block into a
 * file the dispatcher reads (see process-link.ts).
 */
export interface InstanceLink {
  readonly init: InstanceInit
  /** The lease block this instance writes (see LeaseSlot). */
  readonly lease: Int32Array
  send(batch: InstanceMessage[], transfer: ArrayBuffer[]): void
  onBatch(receive: (batch: ToInstance[]) => void): void
  /**
   * Makes what was just written to the lease visible to the dispatcher. Nothing to do in shared
   * memory; a child process writes the block to its lease file (about a µs).
   */
  publish(): void
  /** Lets the instance end once its event loop is idle (drain). */
  release(): void
}

/**
 * The link of the calling instance: a worker thread's, or (on a process's main thread, which is
 * where `isolation: 'process'` runs the app) a child process's.
 *
 * @example
 * ```ts
 * const link = openLink()
 * link.onBatch((batch) => { for (const msg of batch) receive(msg) })
 * ```
 */
export function openLink(): InstanceLink {
  return isMainThread ? openProcessLink() : openWorkerLink()
}

function openWorkerLink(): InstanceLink {
  const init = workerData as InstanceInit
  const port = parentPort!
  return {
    init,
    lease: new Int32Array(init.heartbeat!),
    send: (batch, transfer) => port.postMessage(packFromInstance(batch, transfer), transfer),
    onBatch: (receive) => void port.on('message', (batch: unknown[]) => receive(unpackToInstance(batch))),
    publish: () => {},
    release: () => port.unref(),
  }
}
