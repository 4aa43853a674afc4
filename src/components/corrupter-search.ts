import type { Logger } from 'pino'
import type { ResolvedConfig } from '../config/index.js'
import type { Job } from '../dispatch/index.js'
import { computeSignature, type ImmunityTable } from '../immunity/index.js'
import { createIncidentId, type IncidentStep, type IncidentStore } from '../incidents/index.js'
import { bump, tallies } from '../metrics/index.js'
import { nextSearchStep, suspectsOf, type AnsweredRequest, type RunOutcome, type SuspectTrial } from '../recovery/index.js'
import type { Instance, Pool } from '../supervise/index.js'
import { answeredWell, type ProbeRequest, type Probes } from './probes.js'

/** Bodies larger than this are not kept for the search (an instance keeps its last 32 answers). */
const MAX_BODY_BYTES = 64 * 1024

/** What the search needs of its component. */
export interface SearchContext {
  readonly component: string
  /** The component's own config (its limits shape its sacrificial instances). */
  readonly config: ResolvedConfig
  readonly pool: Pool
  readonly probes: Probes
  readonly immunity: ImmunityTable
  readonly incidents: IncidentStore
  readonly log: Logger
}

/** The request that tests an instance in a trial, and its signature. */
interface Probe {
  readonly request: ProbeRequest
  readonly signature: string
}

/**
 * Finds the request that corrupted an ejected instance (issue 16.3), carrying out suspectsOf and
 * nextSearchStep (src/recovery/corrupter.ts): for each suspect, newest first, one fresh
 * sacrificial instance runs the probe (a request the ejected instance answered 5xx, or the
 * health check it failed, which must pass there), the suspect, and the probe again. Only statuses are kept; no store write of
 * these runs is committed. The suspect after which the probe fails is quarantined like any
 * poison, with an incident whose failure reads "corrupts the instance". One search per component
 * at a time; each trial's instance is retired after it.
 *
 * @example
 * ```ts
 * const search = new CorrupterSearch(context)
 * search.start(ejectedInstance, jobItAnswered500) // runs in the background; logs its verdict
 * search.start(instanceFailingItsCheck, null, { method: 'GET', url: '/health', rawHeaders: [], body: null, sessionId: null })
 * ```
 */
export class CorrupterSearch {
  private running = false
  private trialNumber = 0
  private readonly waiting = new Set<() => void>()

  constructor(private readonly ctx: SearchContext) {}

  /** The pool has capacity again (a sacrificial instance became ready, say). */
  capacity(): void {
    for (const wake of [...this.waiting]) wake()
  }

  /**
   * Starts a search over what `instance` answered before it went bad. The probe is `probe`, a
   * request it answered 5xx; when null, the last such request it answered; when it answered
   * none that can be re-run (an ejection by health check, no client answered badly), `check`,
   * the health check it failed: it fails on a corrupted instance all the same.
   */
  start(instance: Instance, probe: Job | null, check: ProbeRequest | null = null): void {
    if (this.running || this.ctx.config.outliers.suspects === 0) return
    const recent = instance.answers.recent().map(({ entry, status }) => ({ job: entry as Job | null, status }))
    const probeJob = probe ?? [...recent].reverse().find((answer) => answer.status >= 500 && answer.job !== null)?.job ?? null
    let chosen: Probe
    if (probeJob !== null && rerunnable(probeJob)) chosen = { request: probeJob, signature: this.signatureOf(probeJob) }
    else if (check !== null) chosen = { request: check, signature: computeSignature(check, this.ctx.config.immunity.signature) }
    else return
    const answers: AnsweredRequest[] = recent.map(({ job, status }) => ({ signature: job === null ? '' : this.signatureOf(job), status, rerunnable: job !== null && rerunnable(job) }))
    const suspects = suspectsOf(answers, chosen.signature, this.ctx.config.outliers.suspects).map((i) => recent[i]!.job!)
    this.running = true
    this.ctx.log.info(
      { event: 'corrupter-search', instance: instance.id, probe: chosen.signature, suspects: suspects.map((job) => this.signatureOf(job)) },
      `looking for a request that corrupted ${instance.id}: ${suspects.length} suspect(s), each run on a fresh instance between two runs of ${chosen.signature}`,
    )
    void this.search(instance, chosen, suspects).finally(() => {
      this.running = false
    })
  }

  private async search(ejected: Instance, probe: Probe, suspects: Job[]): Promise<void> {
    const began = performance.now()
    const trials: (SuspectTrial & { instance: string })[] = []
    for (;;) {
      const step = nextSearchStep(suspects.length, trials)
      switch (step.do) {
        case 'try': {
          const trial = await this.trial(suspects[step.suspect]!, probe)
          if (trial === null) return this.giveUp(ejected, probe, trials, 'no sacrificial instance became ready')
          trials.push(trial)
          continue
        }
        case 'quarantine':
          return this.quarantine(ejected, probe, suspects[step.suspect]!, trials, performance.now() - began)
        case 'give-up':
          return this.giveUp(ejected, probe, trials, step.why)
        default:
          return step satisfies never
      }
    }
  }

  /** One suspect's trial on a fresh sacrificial instance: probe, suspect, probe. Null when no instance could be had. */
  private async trial(suspect: Job, probe: Probe): Promise<(SuspectTrial & { instance: string }) | null> {
    const instance = await this.freshInstance(`corrupter-${++this.trialNumber}`)
    if (instance === null) return null
    // Held for the whole trial: nothing else may be placed on it between two of its runs.
    const hold = this.ctx.probes.take()
    instance.inflight.add(hold)
    instance.exclusive = true
    instance.served++
    const run = async (request: ProbeRequest): Promise<RunOutcome> => (answeredWell(await this.ctx.probes.run(instance, request, Math.min(this.ctx.config.timeouts.requestMs, 10_000), true)) ? 'ok' : 'bad')
    try {
      const before = await run(probe.request)
      if (before === 'bad') return { before, suspect: null, after: null, instance: instance.id }
      const ran = await run(suspect)
      const after = instance.state === 'ready' ? await run(probe.request) : null
      return { before, suspect: ran, after, instance: instance.id }
    } finally {
      instance.inflight.delete(hold)
      instance.exclusive = false
      // It may hold whatever the suspect did to it: it serves nobody else.
      this.ctx.pool.taint(instance)
    }
  }

  /** A sacrificial instance that never served, within `timeouts.startMs`; null if none. */
  private async freshInstance(group: string): Promise<Instance | null> {
    const { limits, timeouts } = this.ctx.config
    const need = { shape: { heapMb: limits.heapMb, stackMb: limits.stackMb, leaseMs: timeouts.leaseMs }, exclusive: true, fresh: true, group }
    const deadline = performance.now() + timeouts.startMs
    for (;;) {
      const instance = this.ctx.pool.pickSacrificial(need)
      if (instance !== null) {
        instance.group = group
        return instance
      }
      const left = deadline - performance.now()
      if (left <= 0) return null
      // Woken when the pool has capacity (an instance ready); a poll bounds the wait if that never comes.
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiting.delete(wake)
          clearTimeout(timer)
          resolve()
        }
        const timer = setTimeout(wake, Math.min(left, 100))
        // A search still waiting when the runtime stops must not keep the process up.
        timer.unref()
        this.waiting.add(wake)
      })
    }
  }

  private quarantine(ejected: Instance, probe: Probe, corrupter: Job, trials: readonly (SuspectTrial & { instance: string })[], durationMs: number): void {
    const signature = this.signatureOf(corrupter)
    const incidentId = createIncidentId()
    const entry = this.ctx.immunity.quarantine(signature, 'corrupts the instance', 1, incidentId)
    bump(tallies.quarantines, 'corrupter')
    const steps: IncidentStep[] = trials.map((trial, i) => ({
      environment: 'fresh',
      outcome: i === trials.length - 1 ? 'failed' : 'innocent',
      ...(i === trials.length - 1 ? { failure: `corrupts the instance: ${probe.signature} answered well before it, 5xx after it` } : {}),
      instance: trial.instance,
      atMs: 0,
    }))
    this.ctx.incidents.write({
      id: incidentId,
      at: Date.now(),
      signature,
      verdict: 'poison',
      cure: null,
      instancesSpent: trials.length,
      durationMs: Math.round(durationMs),
      kind: 'corrupter',
      request: { requestId: corrupter.requestId, method: corrupter.method, url: corrupter.url, rawHeaders: corrupter.rawHeaders, body: corrupter.body, session: corrupter.sessionId !== null },
      steps,
      error: null,
      neighbours: [],
      tape: null,
    })
    this.ctx.log.warn(
      { event: 'quarantined', reason: 'corrupts the instance', signature, instance: ejected.id, probe: probe.signature, trials: trials.length, until: new Date(entry.quarantinedUntil).toISOString(), incidentId },
      `signature quarantined: it corrupts the instance (${probe.signature} passes before it and fails after it on a fresh instance): ${signature}`,
    )
  }

  private giveUp(ejected: Instance, probe: Probe, trials: readonly SuspectTrial[], why: string): void {
    this.ctx.log.info(
      { event: 'corrupter-search-done', instance: ejected.id, probe: probe.signature, trials: trials.length, outcome: 'none', why },
      `no request found that corrupts ${ejected.id}: ${why}`,
    )
  }

  private signatureOf(job: Job): string {
    return (job.signature ??= computeSignature(job, this.ctx.config.immunity.signature))
  }
}

function rerunnable(job: Job): boolean {
  return job.body === null || job.body.byteLength <= MAX_BODY_BYTES
}
