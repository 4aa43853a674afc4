/**
 * Screening (before level 0 of the ladder): whether a request may reach an instance at all, and
 * where. Checked at admission and again right before a request is sent, since a request admitted
 * before its signature was quarantined or fell under suspicion (queued, evacuated, re-served) must
 * not run after the verdict. Pure, like decide.ts: PoisonGuard gathers the facts and applies.
 */
import type { Tweak } from '../immunity/index.js'
import type { ActionOf } from './actions.js'

/**
 * What is known of a request's signature. The executor may supply these as getters: `screen`
 * reads them in the order listed, and only as far as it needs, so lookups that cost (a route key,
 * a clock) are made only then.
 */
export interface ScreenFacts {
  /** Its signature is quarantined. */
  readonly quarantined: boolean
  /**
   * Its signature's trial as this request sees it: none, one running it already, a `fresh` rung
   * taking copies (`freshRungOpen`), or one judging it (copies wait for the verdict).
   */
  readonly trial: 'none' | 'runs it' | 'fresh rung open' | 'judging'
  /** Its signature's suspicion (a stall, a loss nobody could be blamed for), if any. */
  readonly suspicion: { readonly probing: boolean; readonly probedByIt: boolean } | null
  /** It may be a suspicion's probe, alone on a sacrificial instance (`mayProbe`). */
  readonly mayProbe: boolean
  /** The tweak remembered to cure its signature. */
  readonly cure: Tweak | null
  /** Its route runs apart: many of its distinct signatures failed (the bulkhead). */
  readonly routeApart: boolean
  /** A request of its route is suspected of stalling an instance, or on trial for it. */
  readonly routeStalling: boolean
}

/**
 * The screening of one request whose environment is not decided yet. Quarantined: refused without
 * running. On trial: held for the verdict, or joins a `fresh` rung. Suspected: the one copy let
 * through is the probe, alone on a sacrificial instance; the others wait. Otherwise it runs, under
 * its remembered cure (except `fresh`, which retiring the instance already applied), apart when its
 * route is bulkheaded or suspected of stalling, or as usual.
 *
 * @example
 * ```ts
 * screen({ quarantined: false, trial: 'none', suspicion: null, mayProbe: true, cure: 'exclusive', routeApart: false, routeStalling: false })
 * // { do: 'run', env: 'exclusive' }
 * ```
 */
export function screen(facts: ScreenFacts): ActionOf<'answer' | 'hold' | 'join' | 'probe' | 'run'> {
  if (facts.quarantined) return { do: 'answer', status: 500, code: 'CRASHLESS_ERR_QUARANTINED', why: 'quarantined', blame: false }
  const trial = facts.trial
  if (trial === 'judging') return { do: 'hold', for: 'trial' }
  if (trial === 'fresh rung open') return { do: 'join' }
  const suspicion = facts.suspicion
  // A stall on a serving instance is no verdict until a copy alone on a sacrificial one stalls too.
  if (suspicion && !suspicion.probedByIt) return !suspicion.probing && facts.mayProbe ? { do: 'probe', alone: true } : { do: 'hold', for: 'suspicion' }
  const cure = facts.cure
  if (cure && cure !== 'fresh') return { do: 'run', env: cure }
  if (facts.routeApart) return { do: 'run', env: 'bulkhead' }
  if (facts.routeStalling) return { do: 'run', env: 'apart' }
  return { do: 'run', env: null }
}

/**
 * True when a request may run alone on a sacrificial instance as a suspicion's probe: the ladder
 * is on and it has not started answering. It has not run yet, so even one that may not be re-run
 * may go.
 *
 * @example
 * ```ts
 * mayProbe({ started: false, done: false }, { ladder: ['fresh'] }) // true
 * ```
 */
export function mayProbe(request: { readonly started: boolean; readonly done: boolean }, limits: { readonly ladder: readonly Tweak[] }): boolean {
  return limits.ladder.length > 0 && !request.started && !request.done
}
