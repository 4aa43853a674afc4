/**
 * The recovery ladder's decisions as pure functions (DESIGN.md, "How decisions are made"): each
 * takes values (the failure, the request's history, what is known, the limits) and returns what
 * to do; nothing here reads a clock, posts a message, answers a client or logs. The dispatcher's
 * rooms only carry these actions out, and tests check them as tables (test/recovery/decide.test.ts).
 *
 * Read top to bottom, this is the ladder of DESIGN.md for one failed request:
 * 0. a response already under way cannot be taken back: `cut`;
 * 1. the failure is its own (or, unattributed, it is on a `fresh` rung): up the ladder (`blame`);
 * 2. nobody can be blamed: `isolate`, re-run alone where a failure can only be its own;
 * 3. someone else's fault: `re-serve` while attempts last (innocent losses do not count);
 * 4. otherwise `answer` with a clean error.
 * Up the ladder, `nextRung` picks the cheapest tweak that can cure the failure's kind, or
 * `quarantine` when none is left or the bounds are spent.
 */
import { ladderFor, type FailureKind, type Tweak } from '../immunity/index.js'

/** A request in flight on an instance that was lost, as the decision sees it. */
export interface LostRequest {
  /** Its response head went out: it cannot be re-served. */
  readonly started: boolean
  /** Safe to run again (idempotent, or an idempotency key). */
  readonly replayable: boolean
  /** It ran under a `fresh` rung (whose runs share their signature). */
  readonly freshRung: boolean
  /** Attempts so far, and instances lost under it through others' faults. */
  readonly attempts: number
  readonly innocentLosses: number
}

/** Who the loss is blamed on. */
export type Blame = 'this request' | 'another request' | 'nobody'

/** What happens to one request of a lost instance. */
export type LostAction =
  | { do: 'cut' }
  | { do: 'blame' }
  | { do: 'isolate' }
  | { do: 're-serve'; innocent: boolean }
  | { do: 'answer'; code: 'CRASHLESS_ERR_INSTANCE_LOST'; why: 'not replayable' | 'attempts used up' }

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
}

/**
 * What to do with one request that was in flight on a lost instance.
 *
 * @example
 * ```ts
 * decideLost({ started: false, replayable: true, freshRung: false, attempts: 1, innocentLosses: 0 }, 'another request', limits)
 * // { do: 're-serve', innocent: true }
 * ```
 */
export function decideLost(request: LostRequest, blame: Blame, limits: Pick<LadderLimits, 'maxAttempts' | 'ladder'>): LostAction {
  if (request.started) return { do: 'cut' }
  if (blame === 'this request' || (blame === 'nobody' && request.freshRung)) return { do: 'blame' }
  if (blame === 'nobody' && request.replayable && limits.ladder.length > 0) return { do: 'isolate' }
  if (!request.replayable) return { do: 'answer', code: 'CRASHLESS_ERR_INSTANCE_LOST', why: 'not replayable' }
  // Lost to another request's fault: not this one's attempt, though such losses are bounded too.
  const innocent = blame === 'another request' && request.innocentLosses < limits.maxAttempts
  const attempts = innocent ? request.attempts - 1 : request.attempts
  if (attempts < limits.maxAttempts) return { do: 're-serve', innocent }
  return { do: 'answer', code: 'CRASHLESS_ERR_INSTANCE_LOST', why: 'attempts used up' }
}

/** A signature's trial, as the choice of its next rung sees it. */
export interface TrialState {
  readonly kind: FailureKind
  readonly tried: readonly Tweak[]
  /** Instances the signature has cost during the trial. */
  readonly spent: number
  readonly elapsedMs: number
}

/** The next rung of a trial, or its verdict. */
export type RungAction = { do: 'rerun'; tweak: Tweak } | { do: 'quarantine'; why: 'nothing left to try' | 'instances spent' | 'budget spent' }

/**
 * After a failed rung (or the first failure): the next tweak to re-run under, or quarantine.
 *
 * @example
 * ```ts
 * nextRung({ kind: 'stack', tried: [], spent: 1, elapsedMs: 0 }, limits) // { do: 'rerun', tweak: 'stack' }
 * ```
 */
export function nextRung(trial: TrialState, limits: Pick<LadderLimits, 'maxCrashes' | 'budgetMs' | 'ladder'>): RungAction {
  const next = ladderFor(trial.kind, limits.ladder, trial.tried)[0]
  if (next === undefined) return { do: 'quarantine', why: 'nothing left to try' }
  if (trial.spent >= limits.maxCrashes) return { do: 'quarantine', why: 'instances spent' }
  if (trial.elapsedMs >= limits.budgetMs) return { do: 'quarantine', why: 'budget spent' }
  return { do: 'rerun', tweak: next }
}
