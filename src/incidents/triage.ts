import type { Finding, ReplayRequest } from '../host/index.js'
import type { Tape } from '../tape.js'
import { diffFingerprints, MATTERS, type EnvDifference } from './env-diff.js'
import { environmentTweaks, envOf, type EnvTweak } from './environment-tweaks.js'
import type { Fingerprint } from './fingerprint.js'
import type { Incident } from './incident.js'
import { ddmin, describePart, partsOf, withParts } from './minimize.js'
import { recordedRequest, replayIncident, type ReplayOptions, type ReplayResult } from './replay.js'

/** What a bug depends on, as triage tells them apart (issue 11, point 4). */
export type TriageClass = 'deterministic' | 'concurrency' | 'resource' | 'environment' | 'not-reproducible'

/** One way the incident was re-run, and how many of its runs reproduced the failure. */
export interface TriageSetting {
  name: string
  runs: number
  agreeing: number
}

/** The setting a regression test replays: the request, and what made it fail. */
export interface ReproducingSetup {
  request: ReplayRequest
  tape: Tape | null
  env: Record<string, string | null>
  neighbours: ReplayRequest[]
  neighboursFirst: number | null
}

export interface TriageReport {
  id: string
  class: TriageClass
  /** Some run reproduced the failure (same kind, same first in-app frame). */
  reproduced: boolean
  /** Runs of the setting that decided the class, and how many of them reproduced. */
  runs: number
  agreeing: number
  /** Why the class, in a sentence. */
  why: string
  kind: string
  frame: string | null
  /** The tweak the recovery ladder found to cure it, if any. */
  cure: string | null
  /** The smallest request that still fails the same way, and what was removed; null when not minimised. */
  minimized: { request: ReplayRequest; removed: string[]; tests: number } | null
  /** The `node:test` file written, or null. */
  regressionTest: string | null
  settings: TriageSetting[]
  findings: Finding[]
  /** Weighty differences between the incident's environment and this one. */
  environment: EnvDifference[]
  /** The environment changes that made it reproduce (class environment). */
  environmentTweaks: EnvTweak[] | null
  /** The setup a regression test replays; null when nothing reproduced. */
  setup: ReproducingSetup | null
}

export interface TriageOptions {
  /** Runs per setting. Default 5. */
  runs?: number
  /** Replays the minimiser may spend. Default 40. */
  minimizeBudget?: number
  /** This machine's fingerprint, for the environment settings. */
  here: Fingerprint | null
  /** Progress lines (`alone: 5/5`), for a human watching. */
  progress?: (line: string) => void
}

const RESOURCE_KINDS = new Set(['out-of-memory', 'stall', 'deadline'])

/**
 * Re-runs an incident several ways and classifies it: alone with its tape (input-triggered and
 * deterministic, or resource exhaustion when it runs out of heap or time), on live values (does
 * it hang on recorded nondeterminism?), beside its recorded neighbours in each order
 * (concurrency), and with the incident's environment variables and time zone set
 * (environment). What reproduces is then minimised (ddmin over query parameters, headers and
 * body fields) while the failure's identity stays the same. Confidence is how many runs of the
 * deciding setting agreed.
 *
 * @example
 * ```ts
 * const report = await triageIncident(incident, { here: fingerprint(appDir, null) })
 * report.class // 'deterministic'
 * ```
 */
export async function triageIncident(incident: Incident, options: TriageOptions): Promise<TriageReport> {
  const runs = options.runs ?? 5
  const say = options.progress ?? (() => {})
  const settings: TriageSetting[] = []
  const findings: Finding[] = []
  const request = recordedRequest(incident)
  const tryRuns = async (name: string, replay: ReplayOptions, count = runs): Promise<{ agreeing: number; results: ReplayResult[] }> => {
    const results: ReplayResult[] = []
    for (let i = 0; i < count; i++) {
      const result = await replayIncident(incident, { ...replay, checks: findings.length === 0 && i === 0 })
      results.push(result)
      if (result.reproduced && findings.length === 0) findings.push(...result.findings)
    }
    const agreeing = results.filter((r) => r.reproduced).length
    settings.push({ name, runs: count, agreeing })
    say(`${name}: ${agreeing} of ${count} reproduced`)
    return { agreeing, results }
  }
  const environment = incident.environment && options.here ? diffFingerprints(incident.environment, options.here).filter((d) => d.weight >= MATTERS && d.path !== 'configHash') : []
  const base = { id: incident.id, kind: incident.kind ?? 'unknown', frame: incident.frame ?? null, cure: incident.cure, settings, findings, environment, environmentTweaks: null, minimized: null, regressionTest: null }
  const resource = RESOURCE_KINDS.has(incident.kind ?? '')
  const recorded = incident.tape ?? null

  // 1. Alone, as recorded: its tape, else live values.
  const alone = await tryRuns(recorded ? 'alone, recorded tape' : 'alone, live values', { tape: 'recorded' })
  let decided: { setup: ReproducingSetup; agreeing: number; runs: number; klass: TriageClass; why: string } | null = null
  const setupOf = (tape: Tape | null, env: Record<string, string | null> = {}, neighboursFirst: number | null = null): ReproducingSetup => ({ request, tape, env, neighbours: neighboursFirst === null ? [] : (incident.neighbours ?? []).map((n) => ({ method: n.method, url: n.url, headers: n.headers ?? [], body: n.body ?? null, bodyEncoding: n.bodyEncoding ?? 'utf8', session: false })), neighboursFirst })
  const alike = (klass: TriageClass): TriageClass => (klass === 'deterministic' && resource ? 'resource' : klass)
  if (alone.agreeing === runs) {
    let why = `it failed the same way in every run alone${recorded ? ' with its recorded store reads and nondeterminism' : ''}`
    if (recorded) {
      const live = await tryRuns('alone, live values', { tape: 'none' })
      if (live.agreeing < runs) why += `; on live values only ${live.agreeing} of ${runs} did: it hangs on the recorded values (store reads, Math.random, time)`
    }
    // With no tape, the values a failing run drew (Math.random, time, ids) go with the setup: the
    // regression test and the minimiser then replay a run that failed, not a new live draw.
    const values = recorded ?? alone.results.find((r) => r.used)?.used ?? null
    decided = { setup: setupOf(values), agreeing: runs, runs, klass: alike('deterministic'), why: resource ? `${why}, exhausting ${exhausted(incident)}` : why }
  } else if (alone.agreeing > 0) {
    // Some runs only: is it the nondeterminism? A failing run's values, played back, should always fail.
    const failing = alone.results.find((r) => r.reproduced && r.used)
    if (failing?.used) {
      const taped = await tryRuns('alone, the values of a failing run', { tape: failing.used })
      if (taped.agreeing === runs) decided = { setup: setupOf(failing.used), agreeing: runs, runs, klass: alike('deterministic'), why: `only ${alone.agreeing} of ${runs} runs failed on ${recorded ? 'its recorded tape' : 'live values'}, but every run failed with the values one failing run drew (Math.random, time, ids): deterministic given them` }
    }
  }
  // 2. Beside its neighbours, each order.
  const neighbours = incident.neighbours ?? []
  if (!decided && neighbours.length > 0) {
    let best: { first: number; agreeing: number } | null = null
    const orders: string[] = []
    for (let first = 0; first <= Math.min(neighbours.length, 3); first++) {
      const { agreeing } = await tryRuns(`beside its ${neighbours.length} neighbour(s), ${first} started before it`, { tape: 'recorded', neighboursFirst: first })
      orders.push(`${agreeing}/${runs} with ${first} before it`)
      if (agreeing > (best?.agreeing ?? 0)) best = { first, agreeing }
    }
    if (best && best.agreeing > alone.agreeing) decided = { setup: setupOf(recorded, {}, best.first), agreeing: best.agreeing, runs, klass: 'concurrency', why: `alone it failed in ${alone.agreeing} of ${runs} runs; beside the requests it ran with (${neighbours.map((n) => `${n.method} ${n.url}`).join(', ')}) it failed: ${orders.join(', ')}` }
  }
  // 3. In the incident's environment.
  let tweaks: EnvTweak[] | null = null
  if (!decided && incident.environment && options.here) {
    const candidates = environmentTweaks(incident.environment, options.here)
    if (candidates.length > 0) {
      const all = await tryRuns(`with the incident's environment (${candidates.length} difference(s))`, { tape: 'recorded', env: envOf(candidates) })
      if (all.agreeing > alone.agreeing) {
        const { kept } = await ddmin(candidates, async (subset) => (await replayIncident(incident, { tape: 'recorded', env: envOf(subset), checks: false })).reproduced, 24)
        tweaks = kept.length > 0 ? kept : candidates
        const named = await tryRuns(`with ${tweaks.map((t) => `${t.variable}=${t.value ?? '(unset)'}`).join(' ')}`, { tape: 'recorded', env: envOf(tweaks) })
        decided = { setup: setupOf(recorded, envOf(tweaks)), agreeing: named.agreeing, runs, klass: 'environment', why: `here it failed in ${alone.agreeing} of ${runs} runs; with ${tweaks.map((t) => t.name).join(', ')} as in the incident's environment, in ${named.agreeing} of ${runs}` }
      }
    }
  }
  if (!decided && alone.agreeing > 0) {
    decided = { setup: setupOf(recorded), agreeing: alone.agreeing, runs, klass: 'not-reproducible', why: `it failed in only ${alone.agreeing} of ${runs} runs, and nothing tried (its values, its neighbours, its environment) made it fail every time: flaky` }
  }
  if (!decided) {
    const tried = settings.map((s) => s.name).join('; ')
    return { ...base, class: 'not-reproducible', reproduced: false, runs: alone.results.length, agreeing: 0, why: `no run failed the same way (${tried})${environment.length > 0 ? `; the environments differ: ${environment.slice(0, 3).map((d) => d.path).join(', ')}` : ''}`, setup: null }
  }
  const report: TriageReport = { ...base, class: decided.klass, reproduced: true, runs: decided.runs, agreeing: decided.agreeing, why: decided.why, environmentTweaks: tweaks, setup: decided.setup }
  if (decided.klass !== 'not-reproducible') report.minimized = await minimize(incident, decided.setup, options.minimizeBudget ?? 40, say)
  if (report.minimized) report.setup = { ...decided.setup, request: report.minimized.request }
  return report
}

/** What a resource incident ran out of, for triage's `why`. */
function exhausted(incident: Incident): string {
  if (incident.kind !== 'out-of-memory') return 'its time'
  const external = [incident.error, ...incident.steps.map((s) => s.error)].some((e) => e?.code === 'CRASHLESS_ERR_EXTERNAL_LIMIT')
  return external ? `memory outside the heap (Buffers, ArrayBuffers; limits.externalMb ${incident.app?.externalMb ?? '?'} MiB)` : 'the heap'
}

/** ddmin over the request's parts, in the setting that reproduced it. */
async function minimize(incident: Incident, setup: ReproducingSetup, budget: number, say: (line: string) => void): Promise<TriageReport['minimized']> {
  const parts = partsOf(setup.request)
  if (parts.length === 0) return { request: setup.request, removed: [], tests: 0 }
  const replay = (request: ReplayRequest): Promise<ReplayResult> => replayIncident(incident, { request, tape: setup.tape ?? 'none', env: setup.env, neighboursFirst: setup.neighboursFirst, checks: false })
  const { kept, tests } = await ddmin(parts, async (subset) => (await replay(withParts(setup.request, parts, subset))).reproduced, budget)
  const request = withParts(setup.request, parts, kept)
  const removed = parts.filter((p) => !kept.includes(p)).map(describePart)
  say(`minimised in ${tests} replays: removed ${removed.join(', ') || 'nothing'}`)
  return { request, removed, tests }
}
