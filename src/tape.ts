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
  /** True when a list reached TAPE_LIMITS and later values were not kept. */
  truncated: boolean
}

/** Bounds of one tape, so a request calling Date.now() in a loop cannot grow a message (or an incident) without end. */
export const TAPE_LIMITS = { values: 10_000, reads: 500, readBytes: 1024 * 1024 } as const

/** A tape with nothing on it. */
export function emptyTape(): Tape {
  return { now: [], perf: [], random: [], uuid: [], bytes: [], reads: [], truncated: false }
}
