import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { ImmunityStore } from './immunity-store.js'
import type { ImmunityTable, TableChange } from './immunity-table.js'
import { decodeImmunity, encodeImmunity, type StoredImmunity } from './stored-entry.js'

/** What a node tells the others: the state of one signature after one of its verdicts. */
export interface VerdictMessage {
  v: 1
  /** The node that reached it (its messages come back to it too: ignored by id). */
  from: string
  signature: string
  verdict: 'quarantine' | 'cure' | 'release'
  /** The entry as stored; null for a release. */
  entry: StoredImmunity | null
  /** Epoch ms when the verdict was reached, for the propagation delay the receiver logs. */
  at: number
}

/** How verdicts travel: a pub/sub channel (Redis's, see openRedisChannel). */
export interface VerdictTransport {
  publish(message: string): Promise<void>
}

const TOLD: ReadonlySet<TableChange> = new Set(['quarantine', 'cure', 'release'])
/** A verdict whose publication failed is published again this long after. */
const RETRY_MS = 1_000
/** A re-read that failed is tried again after this, then twice as long each time (up to 5 s). */
const RESYNC_RETRY_MS = 100

/**
 * Cluster-wide immunity: a verdict reached on one node (a quarantine, a cure, a release from
 * `crashless immunity release`) is told to every node sharing the immunity store, so the next
 * copy of a poison is refused unrun wherever the load balancer sends it.
 *
 * The store is the source of truth; messages only make it fast. A verdict is published once the
 * store has it (see ImmunityStore.onWritten), so a node that loads the table after subscribing
 * cannot miss one: either the verdict was stored before it read, or it is published after it
 * subscribed. A node that lost its subscription re-reads the store when it is back
 * ({@link resubscribed}), which also forgets quarantines released elsewhere meanwhile. Messages
 * carry the stored entry itself, so applying one costs no round trip.
 *
 * @example
 * ```ts
 * const broadcast = new VerdictBroadcast(table, store, log)
 * const channel = await openRedisChannel({ url, channel, onMessage: (m) => broadcast.receive(m), onSubscribed: (again) => broadcast.resubscribed(again) })
 * broadcast.attach(channel)
 * ```
 */
export class VerdictBroadcast {
  /** Identifies this runtime's messages. */
  readonly nodeId = `${process.pid}-${randomBytes(4).toString('hex')}`
  /** Signatures with a verdict not yet published, and when it was reached. */
  private readonly pending = new Map<string, number>()
  private transport: VerdictTransport | null = null
  private retry: NodeJS.Timeout | null = null
  /** Reconnections so far: a re-read retries only while no newer one started. */
  private resyncs = 0
  private closed = false

  constructor(
    private readonly table: ImmunityTable,
    private readonly store: ImmunityStore,
    private readonly log: Logger,
    private readonly onApplied?: (message: VerdictMessage, delayMs: number) => void,
  ) {
    table.onChange((signature, change) => {
      if (TOLD.has(change) && !this.pending.has(signature)) this.pending.set(signature, Date.now())
    })
    store.onWritten((signatures) => this.publish(signatures))
  }

  /** Publishes through `transport` from now on (verdicts reached before wait for it). */
  attach(transport: VerdictTransport): void {
    this.transport = transport
    this.publish([...this.pending.keys()])
  }

  /** A message from the channel: another node's verdict is applied to this table at once. */
  receive(raw: string): void {
    let message: VerdictMessage
    try {
      message = JSON.parse(raw) as VerdictMessage
    } catch {
      return
    }
    if (message?.v !== 1 || typeof message.signature !== 'string' || message.from === this.nodeId) return
    const delayMs = Date.now() - message.at
    if (message.verdict === 'release') {
      this.table.applyRelease(message.signature)
    } else {
      const entry = decodeImmunity(message.signature, message.entry)
      if (!entry) return
      this.table.adopt(entry)
    }
    this.log.info({ event: 'immunity-verdict', signature: message.signature, verdict: message.verdict, from: message.from, delayMs }, `${message.verdict} of ${message.signature} learned from another node`)
    this.onApplied?.(message, delayMs)
  }

  /**
   * The subscription is in place again after it was lost: whatever was published meanwhile was
   * missed, so the table is made what the store says.
   */
  resubscribed(again: boolean): void {
    if (!again || this.closed) return
    const generation = ++this.resyncs
    const attempt = (delayMs: number): void => {
      this.store.resync().catch((err: Error) => {
        // The store's own connection may come back a moment after the channel's: try again,
        // unless a newer reconnection started its own re-read.
        if (this.closed || generation !== this.resyncs) return
        this.log.warn({ event: 'immunity-resync-failed', error: err.message, retryMs: delayMs }, 'could not re-read the immunity table after reconnecting; retrying')
        setTimeout(() => attempt(Math.min(delayMs * 2, RETRY_MS * 5)), delayMs).unref()
      })
    }
    attempt(RESYNC_RETRY_MS)
  }

  /** Stops publishing (what is pending stays in the store: other nodes read it when they resync). */
  close(): void {
    this.closed = true
    if (this.retry) clearTimeout(this.retry)
  }

  private publish(signatures: readonly string[]): void {
    const transport = this.transport
    if (!transport || this.closed) return
    for (const signature of signatures) {
      const at = this.pending.get(signature)
      if (at === undefined) continue
      this.pending.delete(signature)
      const message = this.messageFor(signature, at)
      if (!message) continue
      transport.publish(JSON.stringify(message)).then(
        () => this.log.debug({ event: 'immunity-verdict-published', signature, verdict: message.verdict }, 'verdict told to the other nodes'),
        (err: Error) => {
          // Kept for a later try; a node that missed it meanwhile re-reads the store anyway.
          if (!this.pending.has(signature)) this.pending.set(signature, at)
          this.log.warn({ event: 'immunity-publish-failed', signature, error: err.message }, 'could not tell a verdict to the other nodes; retrying')
          this.retry ??= setTimeout(() => {
            this.retry = null
            this.publish([...this.pending.keys()])
          }, RETRY_MS).unref()
        },
      )
    }
  }

  /** The signature's state now: what the store has (it was just written). */
  private messageFor(signature: string, at: number): VerdictMessage | null {
    const entry = this.table.get(signature)
    if (!entry) return { v: 1, from: this.nodeId, signature, verdict: 'release', entry: null, at }
    const verdict = entry.quarantinedUntil > 0 ? 'quarantine' : entry.cure !== null ? 'cure' : null
    return verdict === null ? null : { v: 1, from: this.nodeId, signature, verdict, entry: encodeImmunity(entry), at }
  }
}
