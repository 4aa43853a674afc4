/**
 * What one request did that a replay must give back to it, recorded only on the recovery
 * ladder's sacrificial re-runs (never on serving instances, so a request that succeeds pays
 * nothing) and sent to the dispatcher with the failure's message (see protocol.ts). Values are
 * in the order the request's code obtained them, per source: a replay hands them out again in
 * that order and falls back to live values once a list runs out.
 */

import type { StoreReadOp } from './protocol.js'

/** One store read as the request saw it: committed entries (values as base64 of the stored bytes), or the error. */
export interface TapeRead {
  op: StoreReadOp
  entries: { key: string; value: string; version: number; expiresAt: number | null }[] | null
  error: string | null
}

export interface Tape {
  /** `Date.now()` results. */
  now: number[]
  /** `performance.now()` results. */
  perf: number[]
  /** `Math.random()` results. */
  random: number[]
  /** `crypto.randomUUID()` results. */
  uuid: string[]
  /** Bytes from `crypto.getRandomValues()` and `crypto.randomBytes(n)`, base64, one per call. */
  bytes: string[]
  reads: TapeRead[]
  /** True when a list reached TAPE_LIMITS (or, streamed, STREAM_LIMITS) and later values were not kept. */
  truncated: boolean
  /**
   * Present when the run could not send its tape itself, and this is what it streamed to the
   * dispatcher as it drew each value (see src/host/tape-stream.ts): `ended` is how the run ended
   * its instance (`lease-expired` for a stall, `out-of-memory`, `exit`, `crash`), or null when
   * the instance still ran but never answered the dispatcher's abort (it spins).
   */
  streamed?: { ended: string | null }
}

/** Bounds of one tape, so a request calling Date.now() in a loop cannot grow a message (or an incident) without end. */
export const TAPE_LIMITS = { values: 10_000, reads: 500, readBytes: 1024 * 1024 } as const

/**
 * Bounds of what a recording instance streams of one run while it runs (src/host/tape-stream.ts),
 * well under TAPE_LIMITS: a run that loops on `Date.now()` a million times sends the first
 * `values` and one mark that the rest was cut, so the dispatcher's thread is never flooded.
 * Reads stream up to TAPE_LIMITS' bounds (each one is a round trip to the dispatcher anyway).
 * `bytes`: characters of base64 random bytes.
 */
export const STREAM_LIMITS = { values: 1_000, bytes: 64 * 1024 } as const

/** One entry of a run's tape, as a recording instance streams it (protocol.ts, TapeEntryMessage). */
export type TapeEntry =
  | { source: 'now' | 'perf' | 'random'; value: number }
  | { source: 'uuid' | 'bytes'; value: string }
  | { source: 'read'; value: TapeRead }
  /** Later entries were not kept: the tape is truncated from here. */
  | { source: 'cut'; value: null }

/** A tape with nothing on it. */
export function emptyTape(): Tape {
  return { now: [], perf: [], random: [], uuid: [], bytes: [], reads: [], truncated: false }
}
