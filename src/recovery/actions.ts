/**
 * What the ladder's decisions return: one discriminated union, so an executor's `switch` over
 * the actions a decision can give is checked for exhaustiveness (`unreachable`), as h11 raises
 * on a transition its table lacks. Each decision returns a narrower part of it (`ActionOf<'...'>`).
 */
import type { CrashlessErrorCode } from '../errors.js'
import type { Tweak } from '../immunity/index.js'

/** Why a request is answered with an error instead of the app's response. */
export type AnswerWhy =
  | 'its own failure'
  | 'not replayable'
  | 'attempts used up'
  | 'deadline'
  | 'quarantined'
  | 'no capacity apart'

/** Every action a decision of the recovery core can return. */
export type Action =
  /** Its response is under way and cannot be taken back: close the connection. */
  | { do: 'cut'; blame: boolean }
  /** Answer with crashless's JSON error; `blame`: the failure counts against its signature. */
  | { do: 'answer'; status: number; code: CrashlessErrorCode; why: AnswerWhy; blame: boolean }
  /** The crash was another request's (or a late one's): the instance is tainted, nobody answered. */
  | { do: 'suppress' }
  /** Its own failure, and it may run again: the recovery ladder takes it (level 2). */
  | { do: 'ladder' }
  /** Run it again elsewhere (level 1); `innocent`: lost to another's fault, not its attempt. */
  | { do: 're-serve'; innocent: boolean }
  /** Nobody could be blamed: run it alone on a sacrificial instance, where a failure is its own. */
  | { do: 'isolate' }
  /** Keep it away from instances until its signature is judged (by a trial or a suspicion). */
  | { do: 'hold'; for: 'trial' | 'suspicion' }
  /** Join the `fresh` rung of its signature's trial, beside the copies already running there. */
  | { do: 'join' }
  /** Run it as its suspected signature's probe: `alone` on a sacrificial instance, or, ladder off, where requests run. */
  | { do: 'probe'; alone: boolean }
  /** Its rung failed: the next rung (or the verdict) is chosen by `nextRung`. */
  | { do: 'next-rung' }
  /** Re-run under a tweak on a sacrificial instance (level 2). */
  | { do: 'rerun'; tweak: Tweak }
  /** The verdict: poison. Its signature is refused until the quarantine ends. */
  | { do: 'quarantine'; why: 'nothing left to try' | 'instances spent' | 'budget spent' | 'route apart' | 'never resolves' }
  /** Run it; `env` is where when not on a serving instance (a cure, a route run apart). */
  | { do: 'run'; env: Tweak | 'bulkhead' | 'apart' | null }
  /** The rung's tweak cured it: remember the tweak for its signature. */
  | { do: 'cure'; tweak: Tweak }
  /** A stall that did not recur alone: not a hung request; nothing to remember. */
  | { do: 'clear' }
  /** Held requests go back to the queue. */
  | { do: 'release' }
  /** Count the failure against its signature (enough of them quarantine it). */
  | { do: 'count' }
  /** Evidence too weak to count alone: the signature stays suspected, its next copy runs alone. */
  | { do: 'suspect' }
  /** Nothing to do yet (others of a rung still run; a copy still runs elsewhere). */
  | { do: 'wait' }
  /** Give it `ms` more before deciding again. */
  | { do: 'extend'; ms: number }
  /** Leave it where it is. */
  | { do: 'stay' }

/** The actions whose `do` is one of `D`. */
export type ActionOf<D extends Action['do']> = Extract<Action, { do: D }>

/**
 * Ends an exhaustive `switch` over actions: a new action no executor handles fails to compile.
 *
 * @example
 * ```ts
 * switch (action.do) {
 *   case 'cut': ...; break
 *   case 'answer': ...; break
 *   default: unreachable(action)
 * }
 * ```
 */
export function unreachable(action: never): never {
  throw new Error(`no executor for action ${JSON.stringify(action)}`)
}

/**
 * The action's name, as logs carry it in their `action` field (stable: tests and bench/lib
 * match on "recovery ladder", "answered 504", "connection closed").
 *
 * @example
 * ```ts
 * actionName({ do: 'answer', status: 504, code: 'CRASHLESS_ERR_DEADLINE', why: 'deadline', blame: false }) // 'answered 504'
 * ```
 */
export function actionName(action: Action): string {
  switch (action.do) {
    case 'cut':
      return 'connection closed'
    case 'answer':
      return `answered ${action.status}`
    case 'ladder':
      return 'recovery ladder'
    case 'rerun':
      return `re-run under ${action.tweak}`
    case 'quarantine':
      return `quarantined (${action.why})`
    case 'run':
      return action.env === null ? 'run' : `run ${action.env}`
    case 'cure':
      return `cured by ${action.tweak}`
    case 'hold':
      return `held for the ${action.for}`
    case 'probe':
      return action.alone ? 'probe alone' : 'probe'
    case 'extend':
      return `extended ${action.ms} ms`
    case 'suppress':
    case 're-serve':
    case 'isolate':
    case 'join':
    case 'next-rung':
    case 'clear':
    case 'release':
    case 'count':
    case 'suspect':
    case 'wait':
    case 'stay':
      return action.do
    default:
      return unreachable(action)
  }
}
