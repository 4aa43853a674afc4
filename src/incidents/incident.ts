import { randomBytes } from 'node:crypto'
import type { Tape } from '../tape.js'
import type { Fingerprint } from './fingerprint.js'

/** An error as an incident keeps it: with its stack (async frames included where V8 had them). */
export interface IncidentError {
  name: string
  message: string
  code?: string | undefined
  stack?: string | undefined
}

/** One thing that happened to the request on its way through the recovery ladder. */
export interface IncidentStep {
  /** `original` for the first run on an ordinary instance, else the environment's tweak. */
  environment: string
  /** `failed`, `cured`, or `innocent` (an isolated suspect that ran fine). */
  outcome: 'failed' | 'cured' | 'innocent'
  /** How it failed (crash kind or loss reason) and the error, when it failed. */
  failure?: string
  error?: IncidentError
  instance?: string
  /** Ms since the incident began. */
  atMs: number
}

/** A request that was in flight beside the failing one, on the same instance, when it failed. */
export interface Neighbour {
  requestId: string
  method: string
  url: string
  /** Redacted as the failing request's are (absent in incidents written before they were kept). */
  headers?: [string, string][]
  body?: string | null
  bodyEncoding?: 'utf8' | 'base64'
}

/** The request as recorded: secrets redacted (see redact.ts), the body cut at `incidents.maxBodyBytes`. */
export interface IncidentRequest {
  requestId: string
  method: string
  url: string
  /** Headers as received, secrets replaced by `[redacted]`. */
  headers: [string, string][]
  bodyBytes: number
  /** The body (redacted): text when it is UTF-8, else base64 (see `bodyEncoding`); null when there was none. */
  body?: string | null
  bodyEncoding?: 'utf8' | 'base64'
  /** True when only the first `incidents.maxBodyBytes` were kept. */
  bodyTruncated?: boolean
  /** The request carried a (verified) session cookie. */
  session?: boolean
}

/** How the app was run, so `crashless replay` can load it the same way. */
export interface IncidentApp {
  entry: string
  style: 'auto' | 'fetch' | 'node' | 'listen'
  heapMb: number
  stackMb: number
  /** `limits.externalMb`: memory outside the V8 heap (Buffers, ArrayBuffers) past which the instance was ended; 0 or absent: no cap. */
  externalMb?: number
  leaseMs: number
  requestMs: number
  sessions: { ttlMs: number } | null
}

/** The record of one failure and its recovery (DESIGN.md "Incidents, replay and triage"). */
export interface Incident {
  /** 2 for incidents written with the fields below `durationMs`; absent in older ones. */
  version?: number
  id: string
  /** ISO time of the first failure. */
  at: string
  signature: string
  request: IncidentRequest
  steps: IncidentStep[]
  /**
   * `cured` (a tweak answered the client; it is applied to the signature from now on), `cleared`
   * (a stall did not recur alone: nothing to cure), `poison` (quarantined), or `failed` (not
   * safe to re-run: its client got the error at once; the incident is what that failure saw).
   */
  verdict: 'cured' | 'cleared' | 'poison' | 'failed'
  cure: string | null
  /** Instances the signature cost during this incident. */
  instancesSpent: number
  durationMs: number
  /** The failure's kind: crash, exit, stack, out-of-memory, stall, deadline, runtime-lost, or corrupter (replay refuses the last two). */
  kind?: string
  /** The first failure's error, with its stack. */
  error?: IncidentError | null
  /** The first stack frame in the app's own code (`file:line:col`, relative to the app), the failure's identity with `kind`. */
  frame?: string | null
  neighbours?: Neighbour[]
  /** What a sacrificial re-run recorded (store reads, nondeterminism); null when no re-run failed with one. */
  tape?: Tape | null
  app?: IncidentApp
  environment?: Fingerprint | null
  /** Identical failures (same kind, error name, first in-app frame and verdict) counted here instead of in files of their own. */
  count?: number
  /** ISO time of the latest identical failure. */
  lastAt?: string
  /** The latest identical failures' ids (quoted to their clients), signatures and request ids; at most OCCURRENCES_KEPT. */
  occurrences?: { id: string; at: string; signature: string; requestId: string }[]
}

/** Identical failures' ids kept in their incident, so an id a client was given still finds it. */
export const OCCURRENCES_KEPT = 50

/**
 * A new incident id: sortable by time, unguessable enough not to collide.
 *
 * @example
 * ```ts
 * createIncidentId() // 'inc-20261122T101500Z-4f9a1c2e'
 * ```
 */
export function createIncidentId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  return `inc-${stamp}-${randomBytes(4).toString('hex')}`
}

/** True for a string shaped like an incident id (safe to use as a file name). */
export function isIncidentId(value: string): boolean {
  return /^inc-\d{8}T\d{6}Z-[0-9a-f]{8}$/.test(value)
}
