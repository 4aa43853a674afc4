import type { ImmunityEntry } from './immunity-table.js'
import { TWEAKS, type Tweak } from './tweaks.js'

/**
 * An immunity entry as stored and as told to the other nodes of a cluster: versioned, so a later
 * crashless can read what an earlier one wrote (and a node of the next version what one of this
 * version says).
 */
export interface StoredImmunity {
  v: 1
  failures: number
  lastFailure: string
  firstFailureAt: number
  quarantinedUntil: number
  /** Added after the first release: absent in older entries. */
  cure?: Tweak | null
  curedUntil?: number
  incidentId?: string | null
}

/**
 * The stored form of an entry (its signature is the key, or a field of the message, beside it).
 *
 * @example
 * ```ts
 * Buffer.from(JSON.stringify(encodeImmunity(table.get('GET /boom #-')!)))
 * ```
 */
export function encodeImmunity(entry: ImmunityEntry): StoredImmunity {
  return { v: 1, failures: entry.failures, lastFailure: entry.lastFailure, firstFailureAt: entry.firstFailureAt, quarantinedUntil: entry.quarantinedUntil, cure: entry.cure, curedUntil: entry.curedUntil, incidentId: entry.incidentId }
}

/**
 * The entry a stored form describes, or null when it is not one this version understands (it is
 * then ignored: a damaged or future entry must not stop a node from starting).
 *
 * @example
 * ```ts
 * decodeImmunity('GET /boom #-', JSON.parse(text)) // ImmunityEntry | null
 * ```
 */
export function decodeImmunity(signature: string, value: unknown): ImmunityEntry | null {
  if (typeof value !== 'object' || value === null) return null
  const raw = value as Partial<StoredImmunity>
  const counts = [raw.failures, raw.firstFailureAt, raw.quarantinedUntil]
  if (raw.v !== 1 || typeof raw.lastFailure !== 'string' || !counts.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0)) return null
  const cure = typeof raw.cure === 'string' && (TWEAKS as readonly string[]).includes(raw.cure) ? raw.cure : null
  const curedUntil = cure && typeof raw.curedUntil === 'number' && Number.isFinite(raw.curedUntil) ? raw.curedUntil : 0
  const incidentId = typeof raw.incidentId === 'string' ? raw.incidentId : null
  return { signature, failures: raw.failures!, lastFailure: raw.lastFailure, firstFailureAt: raw.firstFailureAt!, quarantinedUntil: raw.quarantinedUntil!, cure, curedUntil, incidentId }
}
