/**
 * What a stall, or a loss nobody could be blamed for, means for a signature: suspicion, not a
 * verdict. A stall on a serving instance (which a busy or descheduled machine can fake) makes its
 * signature a suspect; only a copy that stalls alone on a sacrificial instance counts. Pure, like
 * decide.ts: PoisonGuard and Suspects apply these and keep the suspects map.
 */
import type { FailureKind, Tweak } from '../immunity/index.js'
import { unreachable, type ActionOf } from './actions.js'

/**
 * A failure blamed on a request that cannot be re-run (or a stalled suspect whose client left):
 * counted against its signature, unless it is a stall that did not happen `alone` on a sacrificial
 * instance, which only keeps the signature suspected.
 *
 * @example
 * ```ts
 * decideBlame({ kind: 'stall', alone: false }) // { do: 'suspect' }
 * ```
 */
export function decideBlame(failure: { readonly kind: FailureKind; readonly alone: boolean }): ActionOf<'count' | 'suspect'> {
  return !failure.alone && failure.kind === 'stall' ? { do: 'suspect' } : { do: 'count' }
}

/** How a suspect's case ended: its signature quarantined, it failed again, or it completed. */
export type Verdict = 'quarantined' | 'failed' | 'cleared'

/** What the judging of a suspicion knows (may be getters: read in order, only when needed). */
export interface VerdictFacts {
  /** Requests held for the verdict, still waiting. */
  readonly waiting: number
  /** Another copy admitted before the suspicion still runs somewhere. */
  readonly copyRunning: boolean
  /** Its signature is quarantined now. */
  readonly quarantined: boolean
  /** The next held request may run alone as the probe (`mayProbe`). */
  readonly mayProbe: boolean
}

/**
 * The suspect was judged. Poison: every held request is refused. Failed, not (yet) poison: the
 * next held request is the new probe (alone, unless the ladder is off) and the others keep waiting,
 * unless another copy still runs, whose verdict comes first. Completed: all are released.
 *
 * @example
 * ```ts
 * decideVerdict('failed', { waiting: 2, copyRunning: false, quarantined: false, mayProbe: true }) // { do: 'probe', alone: true }
 * ```
 */
export function decideVerdict(verdict: Verdict, facts: VerdictFacts): ActionOf<'wait' | 'probe' | 'answer' | 'release'> {
  switch (verdict) {
    case 'failed':
      if (facts.waiting === 0 || facts.copyRunning) return { do: 'wait' }
      return { do: 'probe', alone: facts.mayProbe }
    case 'quarantined':
      if (facts.quarantined) return { do: 'answer', status: 500, code: 'CRASHLESS_ERR_QUARANTINED', why: 'quarantined', blame: false }
      return { do: 'release' }
    case 'cleared':
      return { do: 'release' }
    default:
      return unreachable(verdict)
  }
}

/** A request of an instance that stalls, as the evacuation of that instance sees it. */
export interface Evacuee {
  /** It is the request running synchronously in the stalled instance. */
  readonly running: boolean
  readonly started: boolean
  readonly replayable: boolean
}

/**
 * A started request of a stalled instance (those it has not started always move): it moves once
 * the stall reaches half a lease (`late`) and it may run twice (replayable, head not sent). With
 * nothing running synchronously, one of the waiting requests may have started the loop (from a
 * timer): each is isolated, so the culprit cannot take another serving instance with it.
 *
 * @example
 * ```ts
 * decideEvacuee({ running: false, started: false, replayable: true }, { late: true, runningKnown: true }, limits) // re-served
 * ```
 */
export function decideEvacuee(request: Evacuee, stall: { readonly late: boolean; readonly runningKnown: boolean }, limits: { readonly ladder: readonly Tweak[] }): ActionOf<'stay' | 'isolate' | 're-serve'> {
  if (!stall.late || request.running || request.started || !request.replayable) return { do: 'stay' }
  if (!stall.runningKnown && limits.ladder.length > 0) return { do: 'isolate' }
  return { do: 're-serve', innocent: false }
}
