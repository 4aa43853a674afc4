/**
 * Requests that corrupt rather than crash (issue 16.3), decided without I/O. SRS's premise, that
 * an instance's memory cleanses itself between requests, fails for global state: a prototype
 * polluted through a JSON body, a module-level cache given a bad entry. The request succeeds; the
 * instance answers 5xx from then on. When such an instance is ejected (outliers.ts), the requests
 * it answered just before its bad answers are suspects: each is re-run on a fresh sacrificial
 * instance between two runs of a request it answered badly. The one after which that request
 * fails, when it passed just before, corrupts the instance: it is quarantined like any poison.
 */

/** One answer of the ejected instance, oldest first: its request's signature and status. */
export interface AnsweredRequest {
  readonly signature: string
  readonly status: number
  /** False when it cannot be re-run (its body was not kept). */
  readonly rerunnable: boolean
}

/**
 * The suspects among an ejected instance's recent answers (oldest first): the requests answered
 * well before its bad phase began, newest first, one per signature, never the signature of
 * `probe` (the request that tests the instance), at most `limit`. Returns their indices. The bad
 * phase is the suffix of the answers where 5xx outnumber the others most (each 5xx +1, any other
 * answer -1; the earliest start on a tie): a 500 long before, with good answers since, is not
 * part of it; a route the corruption spares, answering well between the 500s, does not end it.
 *
 * @example
 * ```ts
 * suspectsOf([{ signature: 'a', status: 200, … }, { signature: 'p', status: 201, … }, { signature: 'a', status: 500, … }], 'a', 8) // [1]
 * ```
 */
export function suspectsOf(answers: readonly AnsweredRequest[], probe: string, limit: number): number[] {
  let start = answers.length
  let score = 0
  let best = 0
  for (let i = answers.length - 1; i >= 0; i--) {
    score += answers[i]!.status >= 500 ? 1 : -1
    if (score > 0 && score >= best) {
      best = score
      start = i
    }
  }
  const seen = new Set<string>([probe])
  const out: number[] = []
  for (let i = start - 1; i >= 0 && out.length < limit; i--) {
    const answer = answers[i]!
    if (answer.status >= 500 || !answer.rerunnable || seen.has(answer.signature)) continue
    seen.add(answer.signature)
    out.push(i)
  }
  return out
}

/** How one run on a sacrificial instance went: answered below 500, or not (5xx, a crash, no answer). */
export type RunOutcome = 'ok' | 'bad'

/** One suspect's trial: the probe request, the suspect, the probe again, on one fresh instance. */
export interface SuspectTrial {
  readonly before: RunOutcome
  /** Null when the trial stopped before the suspect ran. */
  readonly suspect: RunOutcome | null
  readonly after: RunOutcome | null
}

/** What the search does next. */
export type SearchStep =
  | { readonly do: 'try'; readonly suspect: number }
  | { readonly do: 'quarantine'; readonly suspect: number }
  | { readonly do: 'give-up'; readonly why: 'the probe request fails on a fresh instance' | 'no suspect corrupts a fresh instance' | 'no suspects' }

/**
 * The next step of the search over `suspects` (their count), given the trials so far (in the
 * order tried). A probe that fails before any suspect ran means the request is not one that
 * was answering well: nothing is learned from it, and the search stops.
 *
 * @example
 * ```ts
 * nextSearchStep(3, [{ before: 'ok', suspect: 'ok', after: 'ok' }]) // { do: 'try', suspect: 1 }
 * nextSearchStep(3, [{ before: 'ok', suspect: 'ok', after: 'bad' }]) // { do: 'quarantine', suspect: 0 }
 * ```
 */
export function nextSearchStep(suspects: number, trials: readonly SuspectTrial[]): SearchStep {
  if (suspects === 0) return { do: 'give-up', why: 'no suspects' }
  for (const [i, trial] of trials.entries()) {
    if (trial.before === 'bad') return { do: 'give-up', why: 'the probe request fails on a fresh instance' }
    if (trial.after === 'bad') return { do: 'quarantine', suspect: i }
  }
  if (trials.length < suspects) return { do: 'try', suspect: trials.length }
  return { do: 'give-up', why: 'no suspect corrupts a fresh instance' }
}
