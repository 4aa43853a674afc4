/**
 * A Jepsen-style checker: after a run, what the store holds is compared with what the clients
 * were told. Every write has its own effect key, so the store alone says how many times each was
 * applied: an acknowledged write (a 200 its client received) whose effect is missing is a lost
 * write; any write applied more than once is a duplicated effect; a client's count that differs
 * from the number of its applied writes is a torn transaction. Writes that were never
 * acknowledged may or may not have happened (their answer was lost), but never twice.
 */
import type { Op } from './load.js'

/** What the store holds: applications of each write id, and each client's count. */
export interface StoreView {
  effects: Map<string, number>
  counts: Map<string, number>
}

/** The outcome of one run. */
export interface Verdict {
  ops: number
  okOps: number
  /** Operations that succeeded (after the client's own retries of keyed writes). */
  successRatio: number
  attempts: number
  /** HTTP exchanges that succeeded (what a client that never retries would see). */
  attemptSuccessRatio: number
  acknowledgedWrites: number
  lostWrites: number
  duplicatedEffects: number
  tornCounts: number
  /** GET /me that answered another user or none: a session lost. */
  sessionsLost: number
  /** The longest time without any successful operation ending, between the first and the last. */
  longestOutageMs: number
  /** Failed operations, by kind and last status (and error code). */
  failures: Record<string, number>
  /** Failed attempts answered 503 with Retry-After (a clean refusal) / failed otherwise. */
  clean503: number
  otherFailedAttempts: number
  /** Which node answered how many attempts. */
  byNode: Record<string, number>
}

/**
 * Checks `ops` against `store`.
 *
 * @example
 * ```ts
 * const verdict = check(await load.stop(), await readCrashlessStore(redis.socket))
 * assert.equal(verdict.lostWrites, 0)
 * ```
 */
export function check(ops: readonly Op[], store: StoreView): Verdict {
  const failures: Record<string, number> = {}
  const byNode: Record<string, number> = {}
  let attempts = 0
  let okAttempts = 0
  let clean503 = 0
  let otherFailedAttempts = 0
  for (const op of ops) {
    for (const attempt of op.attempts) {
      attempts++
      if (attempt.node) byNode[attempt.node] = (byNode[attempt.node] ?? 0) + 1
      if (attempt.status >= 200 && attempt.status < 300) okAttempts++
      else if (attempt.status === 503 && attempt.retryAfter !== null) clean503++
      else otherFailedAttempts++
    }
    if (!op.ok) {
      const last = op.attempts[op.attempts.length - 1]
      const key = `${op.kind} ${last ? (last.status || last.error) : '?'}${last?.code ? ` ${last.code}` : ''}`
      failures[key] = (failures[key] ?? 0) + 1
    }
  }
  const writes = ops.filter((op) => op.kind === 'write')
  const acknowledged = writes.filter((op) => op.ok)
  const lostWrites = acknowledged.filter((op) => (store.effects.get(op.id!) ?? 0) === 0).length
  const duplicatedEffects = [...store.effects.values()].filter((n) => n > 1).length
  // A client's count must equal how many of its writes were applied (each once).
  const applied = new Map<string, number>()
  for (const [id, n] of store.effects) {
    const client = id.slice(0, id.lastIndexOf('-w'))
    applied.set(client, (applied.get(client) ?? 0) + n)
  }
  let tornCounts = 0
  for (const [client, count] of store.counts) if ((applied.get(client) ?? 0) !== count) tornCounts++
  const okOps = ops.filter((op) => op.ok).length
  return {
    ops: ops.length,
    okOps,
    successRatio: ops.length === 0 ? 0 : okOps / ops.length,
    attempts,
    attemptSuccessRatio: attempts === 0 ? 0 : okAttempts / attempts,
    acknowledgedWrites: acknowledged.length,
    lostWrites,
    duplicatedEffects,
    tornCounts,
    sessionsLost: ops.filter((op) => op.kind === 'me' && op.attempts[0]?.status === 200 && !op.ok).length,
    longestOutageMs: longestOutage(ops),
    failures,
    clean503,
    otherFailedAttempts,
    byNode,
  }
}

/** The longest gap between two successful operations ending (ms). */
export function longestOutage(ops: readonly Op[]): number {
  const ends = ops.filter((op) => op.ok).map((op) => op.endedAt).sort((a, b) => a - b)
  let longest = 0
  for (let i = 1; i < ends.length; i++) longest = Math.max(longest, ends[i]! - ends[i - 1]!)
  return Math.round(longest)
}

/** The store of the crashless app (its `store` keys in crashless's Redis namespace), read over `socket`. */
export async function readCrashlessStore(socket: string, prefix = 'crashless:'): Promise<StoreView> {
  const { createBackend } = await import('../../../src/state/index.js')
  const backend = await createBackend({ kind: 'redis', url: socket, prefix })
  try {
    // JSON values are stored as a 'j' tag byte and the JSON text (see src/host/value-codec.ts).
    const read = async (under: string): Promise<Map<string, number>> =>
      new Map((await backend.list(`s:${under}`)).map((e) => [e.key.slice(2 + under.length), Number(JSON.parse(Buffer.from(e.value).subarray(1).toString('utf8')))]))
    return { effects: await read('effect:'), counts: await read('count:') }
  } finally {
    await backend.close()
  }
}

/** The store of the plain app under PM2 (`plain:` keys), read over `socket`. */
export async function readPlainStore(socket: string): Promise<StoreView> {
  const { Redis } = await import('ioredis')
  const client = new Redis(socket)
  try {
    const read = async (under: string): Promise<Map<string, number>> => {
      const keys = await client.keys(`plain:${under}*`)
      const values = keys.length === 0 ? [] : await client.mget(keys)
      return new Map(keys.map((key, i) => [key.slice(`plain:${under}`.length), Number(values[i])]))
    }
    return { effects: await read('effect:'), counts: await read('count:') }
  } finally {
    client.disconnect()
  }
}
