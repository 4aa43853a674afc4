/**
 * The recovery ladder of DESIGN.md as pure decisions ("How decisions are made"): each function
 * takes values (the failure, the request's history, what is known, the limits) and returns an
 * action (actions.ts); nothing here reads a clock, posts a message, answers a client or logs.
 * The executors in src/dispatch (InstanceFailures, RecoveryLadder, PoisonGuard) carry the actions
 * out and log their names; test/recovery/decide.test.ts checks these functions as tables.
 *
 * The ladder, top to bottom, for one failed request:
 * - level 0, suppress: `decideCrash` (a crash suppressed in its request fails that request only;
 *   its instance is tainted) and `decideDeadline` (a request that outlived its deadline);
 * - level 1, re-serve: `decideLost` (the requests of a lost instance: re-served when they had no
 *   effects, isolated when nobody can be blamed, answered when they may not run again);
 * - level 2, isolate and tweak: a request's own failure goes to the `ladder` (`ownFailure`), where
 *   `decideFailedRun` tells the trial's current rung from a straggler, `nextRung` picks the cheapest
 *   tweak that can cure the failure's kind or quarantines when the bounds are spent, a `fresh` rung
 *   takes copies while `freshRungOpen`, a running probe is `adoptable` as a rung's run, and
 *   `decideSuccess` says whether a rung's success cures its signature;
 * - level 3, microreboot: not a decision here; every failed or stuck instance is tainted and swapped
 *   for its spare by the pool (src/supervise).
 * Before any of it, screen.ts decides whether a request may run at all (quarantine, trials,
 * suspicions, cures), and suspicion.ts what a stall or a suspect's verdict means.
 */
import type { ResolvedConfig } from '../config/index.js'
import type { Environment, FailureKind, Tweak } from '../immunity/index.js'
import { ladderFor } from '../immunity/index.js'
import type { ActionOf } from './actions.js'

/** What the decisions know of one request's past (from its dispatcher job). */
export interface History {
  /** Its response head went out: it cannot be re-served. */
  readonly started: boolean
  /** Safe to run again (idempotent, or an idempotency key). */
  readonly replayable: boolean
  /** Where its current run is: a tweak's environment, or null on a serving instance. */
  readonly tweak: Environment['tweak'] | null
  /** Attempts so far, and instances lost under it through others' faults. */
  readonly attempts: number
  readonly innocentLosses: number
}

/** Who a failure is blamed on. */
export type Blame = 'this request' | 'another request' | 'nobody'

/** The bounds the decisions respect (from the config). */
export interface LadderLimits {
  /** `replay.maxAttempts` */
  readonly maxAttempts: number
  /** `immunity.maxCrashes` */
  readonly maxCrashes: number
  /** `recovery.budgetMs` */
  readonly budgetMs: number
  /** `recovery.ladder`: the tweaks to try, in order; empty turns the ladder off. */
  readonly ladder: readonly Tweak[]
  /** `timeouts.leaseMs` */
  readonly leaseMs: number
}

/**
 * The ladder's bounds in a resolved config.
 *
 * @example
 * ```ts
 * nextRung(trial, limitsOf(config))
 * ```
 */
export function limitsOf(config: Pick<ResolvedConfig, 'replay' | 'immunity' | 'recovery' | 'timeouts'>): LadderLimits {
  return { maxAttempts: config.replay.maxAttempts, maxCrashes: config.immunity.maxCrashes, budgetMs: config.recovery.budgetMs, ladder: config.recovery.ladder, leaseMs: config.timeouts.leaseMs }
}

/** Runs at most in one `fresh` rung: later copies wait for the verdict. */
export const FRESH_GROUP_MAX = 8

/**
 * Level 0 to 2 for a failure that is the request's own: a response under way is cut; a request
 * that may run again goes to the ladder; any other is answered with `answer`.
 */
function ownFailure(history: History, limits: Pick<LadderLimits, 'ladder'>, answer: ActionOf<'answer'>): ActionOf<'cut' | 'ladder' | 'answer'> {
  if (history.started) return { do: 'cut', blame: answer.blame }
  if (history.replayable && limits.ladder.length > 0) return { do: 'ladder' }
  return answer
}

/**
 * Level 0: an instance suppressed a crash. The request it is attributed to (`history`: still on
 * that instance) fails alone; a crash reported for a request answered or moved meanwhile (null)
 * only taints the instance.
 *
 * @example
 * ```ts
 * decideCrash({ started: false, replayable: true, tweak: null, attempts: 1, innocentLosses: 0 }, limits) // { do: 'ladder' }
 * ```
 */
export function decideCrash(history: History | null, limits: Pick<LadderLimits, 'ladder'>): ActionOf<'suppress' | 'cut' | 'ladder' | 'answer'> {
  if (history === null) return { do: 'suppress' }
  return ownFailure(history, limits, { do: 'answer', status: 500, code: 'CRASHLESS_ERR_HANDLER', why: 'its own failure', blame: true })
}

/** Where a request that outlived its deadline is. */
export interface DeadlineFacts {
  /** An instance holds its run. */
  readonly placed: boolean
  /** Read only for a request of a bulkheaded route still waiting: its sacrificial capacity is all taken. */
  readonly apartFull: boolean
}

/**
 * Level 0 for a missed deadline (slow work or a deadlock). A request of a route run apart that is
 * still waiting for capacity waits on while some turns over, and is shed when all of it is taken.
 * One whose instance still holds it goes to the ladder when it may run again (a fresh instance, a
 * longer deadline); others are answered 504, a response under way is cut. A deadline does not
 * count against the signature: the ladder, or nothing, judges it.
 *
 * @example
 * ```ts
 * decideDeadline({ placed: true, apartFull: false }, { ...history, replayable: false }, limits) // answered 504
 * ```
 */
export function decideDeadline(facts: DeadlineFacts, history: History, limits: Pick<LadderLimits, 'ladder' | 'leaseMs'>): ActionOf<'extend' | 'answer' | 'ladder' | 'cut'> {
  if (!facts.placed && history.tweak === 'bulkhead') {
    if (!facts.apartFull) return { do: 'extend', ms: limits.leaseMs / 2 }
    return { do: 'answer', status: 503, code: 'CRASHLESS_ERR_OVERLOADED', why: 'no capacity apart', blame: false }
  }
  const answer: ActionOf<'answer'> = { do: 'answer', status: 504, code: 'CRASHLESS_ERR_DEADLINE', why: 'deadline', blame: false }
  if (!facts.placed || history.started) return history.started ? { do: 'cut', blame: false } : answer
  return ownFailure(history, limits, answer)
}

/**
 * Level 1: what to do with one request that was in flight on a lost instance. Blamed on it (or,
 * unattributed, on a `fresh` rung whose runs share its signature): its own failure. Nobody
 * blamed: isolated. Someone else's fault: re-served while attempts last (innocent losses do not
 * count, though they are bounded too).
 *
 * @example
 * ```ts
 * decideLost({ started: false, replayable: true, tweak: null, attempts: 1, innocentLosses: 0 }, 'another request', limits)
 * // { do: 're-serve', innocent: true }
 * ```
 */
export function decideLost(history: History, blame: Blame, limits: Pick<LadderLimits, 'maxAttempts' | 'ladder'>): ActionOf<'cut' | 'ladder' | 'isolate' | 're-serve' | 'answer'> {
  if (history.started) return { do: 'cut', blame: false }
  switch (blame) {
    case 'this request':
      return ownFailure(history, limits, { do: 'answer', status: 500, code: 'CRASHLESS_ERR_HANDLER', why: 'its own failure', blame: true })
    case 'nobody':
      if (history.tweak === 'fresh') return ownFailure(history, limits, { do: 'answer', status: 500, code: 'CRASHLESS_ERR_HANDLER', why: 'its own failure', blame: true })
      if (history.replayable && limits.ladder.length > 0) return { do: 'isolate' }
      break
    case 'another request':
      break
    default:
      return blame satisfies never
  }
  const lost = { do: 'answer', status: 502, code: 'CRASHLESS_ERR_INSTANCE_LOST', blame: false } as const
  if (!history.replayable) return { ...lost, why: 'not replayable' }
  const innocent = blame === 'another request' && history.innocentLosses < limits.maxAttempts
  const attempts = innocent ? history.attempts - 1 : history.attempts
  if (attempts < limits.maxAttempts) return { do: 're-serve', innocent }
  return { ...lost, why: 'attempts used up' }
}

/** A run that failed, as its signature's trial sees it. */
export interface FailedRun {
  /** Its signature is quarantined already (a copy's verdict came first). */
  readonly quarantined: boolean
  /** No trial yet (this failure opens one), a run of the trial's current rung, or a straggler. */
  readonly onTrial: 'none' | 'current rung' | 'earlier run'
  /** It ran on a bulkheaded route's capacity (`bulkhead` environment). */
  readonly apart: boolean
  /** The trial's `fresh` rung still takes copies (`freshRungOpen`). */
  readonly freshRungOpen: boolean
  /**
   * Instances the signature may still cost: `immunity.maxCrashes` less those it cost, this run's
   * included, copies that were already running elsewhere when the trial opened among them.
   * Infinity for a stall, whose verdict needs a run alone.
   */
  readonly instancesLeft: number
}

/**
 * Level 2, on the ladder: a run of a signature failed. A quarantined signature is refused; a run
 * apart (its route under attack) is judged at once; a straggler (a copy admitted earlier, a run of
 * a rung already failed) joins a `fresh` rung still going or waits for the verdict; the current
 * rung's failure moves the trial on (`nextRung`). Every instance a signature costs counts, a
 * straggler's too: once they reach `immunity.maxCrashes`, the straggler brings the verdict. (A
 * straggler that joins a `fresh` rung runs on the rung's own instance, costing nothing more.)
 *
 * @example
 * ```ts
 * decideFailedRun({ quarantined: false, onTrial: 'none', apart: false, freshRungOpen: false, instancesLeft: 2 }) // { do: 'next-rung' }
 * ```
 */
export function decideFailedRun(run: FailedRun): ActionOf<'answer' | 'quarantine' | 'join' | 'hold' | 'next-rung'> {
  if (run.quarantined) return { do: 'answer', status: 500, code: 'CRASHLESS_ERR_QUARANTINED', why: 'quarantined', blame: false }
  if (run.apart) return { do: 'quarantine', why: 'route apart' }
  switch (run.onTrial) {
    case 'none':
    case 'current rung':
      return { do: 'next-rung' }
    case 'earlier run':
      if (run.instancesLeft <= 0) return { do: 'quarantine', why: 'instances spent' }
      return run.freshRungOpen ? { do: 'join' } : { do: 'hold', for: 'trial' }
    default:
      return run.onTrial satisfies never
  }
}

/** A signature's trial, as the choice of its next rung sees it. */
export interface TrialState {
  readonly kind: FailureKind
  readonly tried: readonly Tweak[]
  /** Instances the signature has cost during the trial. */
  readonly spent: number
  readonly elapsedMs: number
  /**
   * Its last run was seen waiting on nothing that could ever resume it (a sacrificial
   * instance's quiet report, src/host/quiet-watch.ts): no tweak can cure what cannot progress.
   */
  readonly neverResolves?: boolean
  /**
   * Instances running a copy of the signature now that it has not cost yet (a straggler of the
   * failed rung, a copy admitted before the trial): each may still die of it.
   */
  readonly copiesRunning?: number
}

/**
 * Level 2, the next rung: the cheapest tweak that can cure the failure's kind and was not tried,
 * or the verdict when none is left, `immunity.maxCrashes` instances are spent, or the budget is.
 * A run that can never finish (`neverResolves`) is judged at once: a longer deadline gives a
 * request waiting on nothing only more time to wait. While copies running elsewhere could spend
 * what is left, the next rung waits for them (issue 9.4: the instances a signature costs, copies
 * in flight included, never exceed `immunity.maxCrashes`; bench:poison's repeated oom cost a
 * fourth instance to a `heap` rung started beside a copy that died next).
 *
 * @example
 * ```ts
 * nextRung({ kind: 'stack', tried: [], spent: 1, elapsedMs: 0 }, limits) // { do: 'rerun', tweak: 'stack' }
 * ```
 */
export function nextRung(trial: TrialState, limits: Pick<LadderLimits, 'maxCrashes' | 'budgetMs' | 'ladder'>): ActionOf<'rerun' | 'quarantine' | 'wait'> {
  if (trial.neverResolves === true) return { do: 'quarantine', why: 'never resolves' }
  const next = ladderFor(trial.kind, limits.ladder, trial.tried)[0]
  if (next === undefined) return { do: 'quarantine', why: 'nothing left to try' }
  if (trial.spent >= limits.maxCrashes) return { do: 'quarantine', why: 'instances spent' }
  if (trial.elapsedMs >= limits.budgetMs) return { do: 'quarantine', why: 'budget spent' }
  if (trial.spent + (trial.copiesRunning ?? 0) >= limits.maxCrashes) return { do: 'wait' }
  return { do: 'rerun', tweak: next }
}

/**
 * True while a `fresh` rung takes copies of its signature: they run beside each other there as
 * they would normally (so a race among them shows), up to a bound, so the rung still ends.
 *
 * @example
 * ```ts
 * freshRungOpen({ tweak: 'fresh', failed: false, running: 3 }) // true
 * ```
 */
export function freshRungOpen(rung: { readonly tweak: Environment['tweak'] | null; readonly failed: boolean; readonly running: number }): boolean {
  return rung.tweak === 'fresh' && !rung.failed && rung.running < FRESH_GROUP_MAX
}

/** A suspicion's probe, as a new rung considers adopting it. */
export interface ProbeRun {
  readonly done: boolean
  readonly tweak: Environment['tweak'] | null
  /** Its instance, null while it waits for one. */
  readonly instance: { readonly role: string; readonly served: number } | null
}

/**
 * True when a probe already running alone is this rung's run, and is not paid for twice: it is
 * what an `exclusive` rung would run, and a `fresh` one too when its instance served nothing else.
 *
 * @example
 * ```ts
 * adoptable('exclusive', { done: false, tweak: 'isolate', instance: null }) // true
 * ```
 */
export function adoptable(rung: Tweak, probe: ProbeRun | null): boolean {
  if (!probe || probe.done || probe.tweak !== 'isolate') return false
  if (rung === 'fresh') return probe.instance?.role === 'sacrificial' && probe.instance.served === 1
  if (rung === 'exclusive') return probe.instance === null || probe.instance.role === 'sacrificial'
  return false
}

/** A run that succeeded, as its trial sees it. */
export interface SucceededRun {
  /** It was a run of the trial's current rung (and is counted now). */
  readonly counted: boolean
  /** A run of the rung failed already: the rung is over. */
  readonly rungFailed: boolean
  /** Runs of the rung still going. */
  readonly othersRunning: number
  readonly kind: FailureKind
  /** The rung's tweak. */
  readonly tweak: Tweak
}

/**
 * Level 2, the cure: the rung's last run succeeded and none failed. A stall that finished alone
 * within the same lease was the instance being busy, not the request: cleared, nothing remembered.
 *
 * @example
 * ```ts
 * decideSuccess({ counted: true, rungFailed: false, othersRunning: 0, kind: 'crash', tweak: 'fresh' }) // { do: 'cure', tweak: 'fresh' }
 * ```
 */
export function decideSuccess(run: SucceededRun): ActionOf<'wait' | 'cure' | 'clear'> {
  if (!run.counted || run.rungFailed || run.othersRunning > 0) return { do: 'wait' }
  return run.kind === 'stall' ? { do: 'clear' } : { do: 'cure', tweak: run.tweak }
}
