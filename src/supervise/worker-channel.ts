import { Worker } from 'node:worker_threads'
import { workerEntryUrl } from '../host/index.js'
import { LEASE_SLOTS, LeaseSlot, type InstanceInit, type ToInstance } from '../protocol.js'
import { packToInstance, unpackFromInstance } from '../wire.js'
import type { ChannelEvents, ChannelInit, ChannelLimits, InstanceChannel, TakenBack } from './instance-channel.js'

/**
 * An instance in a worker thread (`isolation: 'worker'`, the default): messages are posted,
 * bodies shared or transferred, and the lease block is a SharedArrayBuffer both sides read and
 * write with Atomics, without a message or a system call.
 *
 * @example
 * ```ts
 * const channel = new WorkerChannel(init, { heapMb: 512, stackMb: 4 }, { onBatch, onError, onExit })
 * ```
 */
export class WorkerChannel implements InstanceChannel {
  readonly lease: Int32Array
  readonly procPid = 'self'
  private readonly worker: Worker

  constructor(init: ChannelInit, limits: ChannelLimits, events: ChannelEvents) {
    const shared = new SharedArrayBuffer(LEASE_SLOTS * Int32Array.BYTES_PER_ELEMENT)
    this.lease = new Int32Array(shared)
    this.worker = new Worker(workerEntryUrl, {
      workerData: { ...init, heartbeat: shared } satisfies InstanceInit,
      resourceLimits: { maxOldGenerationSizeMb: limits.heapMb, stackSizeMb: limits.stackMb },
      stdout: false,
      stderr: false,
    })
    this.worker.on('message', (batch: unknown[]) => events.onBatch(unpackFromInstance(batch)))
    this.worker.on('error', events.onError)
    this.worker.on('exit', (code) => events.onExit(code, null))
  }

  send(batch: ToInstance[], transfer: ArrayBuffer[]): void {
    this.worker.postMessage(packToInstance(batch), transfer)
  }

  refresh(): void {}

  takeBack(posted: number): TakenBack | null {
    for (;;) {
      const started = Atomics.load(this.lease, LeaseSlot.Started)
      if (started === posted) return null
      // Moving the gate to the last seq posted fails if the instance started one meanwhile.
      if (Atomics.compareExchange(this.lease, LeaseSlot.Started, started, posted) === started) return { after: started, upTo: posted }
    }
  }

  takenBack(): boolean {
    return false
  }

  async terminate(): Promise<void> {
    await this.worker.terminate()
  }

  ownRssMb(): null {
    return null
  }
}
