import type { ChannelEvents, ChannelInit, ChannelLimits, InstanceChannel, Isolation } from './instance-channel.js'
import { ProcessChannel } from './process-channel.js'
import { WorkerChannel } from './worker-channel.js'

/**
 * Starts an instance as `isolation` says: a worker thread, or a child process.
 *
 * @example
 * ```ts
 * const channel = openChannel('process', init, { heapMb: 512, stackMb: 4 }, { onBatch, onError, onExit })
 * ```
 */
export function openChannel(isolation: Isolation, init: ChannelInit, limits: ChannelLimits, events: ChannelEvents): InstanceChannel {
  return isolation === 'process' ? new ProcessChannel(init, limits, events) : new WorkerChannel(init, limits, events)
}
