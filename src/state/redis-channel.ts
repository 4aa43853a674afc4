import type { Redis, RedisOptions } from 'ioredis'
import { StateError } from './state-error.js'

/** Options of {@link openRedisChannel}. */
export interface RedisChannelOptions {
  url: string
  /** The full channel name (prefix included). */
  channel: string
  /** A message published on the channel by anyone, this process included. */
  onMessage: (message: string) => void
  /**
   * The subscription is in place: at the start (`again` false), and after every reconnection
   * (`again` true), when messages published meanwhile were missed and the caller re-reads what
   * they were about.
   */
  onSubscribed: (again: boolean) => void
  /** The subscription was lost (connection closed, or silent past the liveness bound). */
  onLost?: (why: string) => void
  /** How often the subscriber connection is pinged; silent for 2 pings: reconnected. Default 1000 ms. */
  pingMs?: number
  /** Give up a connection attempt after this long. Default 2000 ms. */
  connectTimeoutMs?: number
}

/** A Redis pub/sub channel: publish, and hear everything published. */
export interface RedisChannel {
  /** Publishes; rejects with a `CRASHLESS_ERR_STATE` error when Redis cannot be reached now (nothing is queued). */
  publish(message: string): Promise<void>
  close(): Promise<void>
}

/**
 * Opens a pub/sub channel on Redis: one connection subscribed to it, one to publish (a
 * subscribed connection can do nothing else). Resolves once the subscription is in place.
 *
 * Pub/sub delivers only to who is subscribed when a message is published, and a connection can
 * break silently (a node cut off from the network keeps a TCP connection that carries nothing),
 * so the subscriber is pinged every `pingMs`, reconnected when two pings go unanswered, and after
 * each reconnection `onSubscribed(true)` tells the caller to catch up from its source of truth.
 *
 * @throws StateError when Redis cannot be reached at the start.
 * @example
 * ```ts
 * const channel = await openRedisChannel({ url, channel: 'crashless:immunity:verdicts', onMessage: apply, onSubscribed: (again) => again && resync() })
 * await channel.publish(JSON.stringify(verdict))
 * ```
 */
export async function openRedisChannel(options: RedisChannelOptions): Promise<RedisChannel> {
  let RedisClass: typeof Redis
  try {
    ;({ Redis: RedisClass } = await import('ioredis'))
  } catch (err) {
    throw new StateError(`cannot load ioredis for the redis channel: ${(err as Error).message}`, { cause: err })
  }
  const pingMs = options.pingMs ?? 1000
  // Nothing is queued while disconnected: a message that cannot go now fails now, and its
  // sender relies on the re-read after reconnection, not on a late delivery.
  const common: RedisOptions = { lazyConnect: true, connectTimeout: options.connectTimeoutMs ?? 2000, enableOfflineQueue: false, maxRetriesPerRequest: 1 }
  const publisher = new RedisClass(options.url, common)
  const subscriber = new RedisClass(options.url, { ...common, autoResubscribe: false })
  let lastError: Error | undefined
  for (const client of [publisher, subscriber]) client.on('error', (err: Error) => (lastError = err))
  let closed = false
  let subscriptions = 0
  let pingSentAt: number | null = null

  subscriber.on('message', (channel: string, message: string) => {
    if (channel === options.channel) options.onMessage(message)
  })
  const subscribe = async (): Promise<void> => {
    // SUBSCRIBE is answered on this connection in order: once it resolves, nothing published
    // from now on is missed, so a re-read started after it sees all the rest.
    await subscriber.subscribe(options.channel)
    pingSentAt = null
    lost = false
    options.onSubscribed(subscriptions++ > 0)
  }
  subscriber.on('ready', () => {
    if (subscriptions === 0 || closed) return
    subscribe().catch((err: Error) => {
      lastError = err
      subscriber.disconnect(true)
    })
  })
  // Told once per loss, not once per failed reconnection attempt.
  let lost = false
  const loseSubscription = (why: string): void => {
    if (lost || closed) return
    lost = true
    options.onLost?.(why)
  }
  subscriber.on('close', () => {
    if (subscriptions > 0) loseSubscription(lastError?.message ?? 'connection closed')
  })
  const liveness = setInterval(() => {
    if (closed || subscriber.status !== 'ready') return
    if (pingSentAt !== null && performance.now() - pingSentAt > 2 * pingMs) {
      pingSentAt = null
      loseSubscription(`no answer to a ping for ${2 * pingMs} ms`)
      // Reconnects (a new TCP connection, which is what notices the network is back).
      subscriber.disconnect(true)
      return
    }
    if (pingSentAt !== null) return
    pingSentAt = performance.now()
    subscriber.ping().then(
      () => (pingSentAt = null),
      () => {},
    )
  }, pingMs)
  liveness.unref()

  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    clearInterval(liveness)
    await Promise.all([publisher, subscriber].map((client) => client.quit().catch(() => client.disconnect())))
  }
  try {
    await Promise.all([publisher.connect(), subscriber.connect()])
    await subscribe()
  } catch (err) {
    await close()
    throw new StateError(`cannot subscribe to ${options.channel} on the redis at ${options.url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')}: ${(err as Error).message}`, { cause: err })
  }
  return {
    publish: async (message) => {
      if (closed) throw new StateError('the redis channel is closed')
      try {
        await publisher.publish(options.channel, message)
      } catch (err) {
        const detail = lastError && lastError !== err ? ` (last connection error: ${lastError.message})` : ''
        throw new StateError(`redis publish failed: ${(err as Error).message}${detail}`, { cause: err })
      }
    },
    close,
  }
}
