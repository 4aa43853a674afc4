import type { HealthCheckOptions } from '../config/index.js'
import { decideHealth } from '../recovery/index.js'
import type { Instance, Pool } from '../supervise/index.js'
import type { Ejections } from './ejections.js'
import { answeredWell, type Probes, type ProbeRequest } from './probes.js'

/** What a check asks for: a plain GET, saying who asks. */
function checkRequest(path: string): ProbeRequest {
  return { method: 'GET', url: path, rawHeaders: ['host', 'localhost', 'user-agent', 'crashless-health-check'], body: null, sessionId: null }
}

/**
 * A component's health check (`components.<name>.healthCheck`, issue 16.2): every `everyMs`,
 * each ready serving instance gets a GET of `path` on its own (probes.ts); an answer of 500 or
 * more, or none within `timeoutMs`, fails it. decideHealth (src/recovery/outliers.ts) ejects an
 * instance after `failures` in a row while a sibling passes, within the bound on ejections. A
 * check still running when the next is due is not doubled. An ejected instance may have been
 * corrupted by a request: `onEjected` starts the search for it (corrupter-search.ts), the check
 * being the request that tells a corrupted instance from a sound one.
 *
 * @example
 * ```ts
 * const checks = new HealthChecks(pool, probes, ejections, component.healthCheck, outliers.intensity, (instance, check) => search.start(instance, null, check))
 * checks.start()
 * ```
 */
export class HealthChecks {
  /** Failed checks in a row, and whether the last one passed, per instance. */
  private readonly state = new WeakMap<Instance, { failures: number; passed: boolean; running: boolean }>()
  private timer: NodeJS.Timeout | null = null
  private readonly request: ProbeRequest

  constructor(
    private readonly pool: Pool,
    private readonly probes: Probes,
    private readonly ejections: Ejections,
    private readonly options: Required<HealthCheckOptions>,
    private readonly intensity: number,
    /** An instance was ejected for failing its check, `check` being the request it failed. */
    private readonly onEjected: (instance: Instance, check: ProbeRequest) => void,
  ) {
    this.request = checkRequest(options.path)
  }

  start(): void {
    this.timer = setInterval(() => this.checkAll(), this.options.everyMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  private checkAll(): void {
    for (const instance of this.pool.active) {
      if (instance.state !== 'ready' || instance.role !== 'serving') continue
      const state = this.stateOf(instance)
      if (state.running) continue
      state.running = true
      void this.probes.run(instance, this.request, this.options.timeoutMs).then((result) => {
        state.running = false
        state.passed = answeredWell(result)
        state.failures = state.passed ? 0 : state.failures + 1
        if (!state.passed) this.judge(instance, state.failures, 'status' in result ? `answered ${result.status}` : result.failed)
      })
    }
  }

  private judge(instance: Instance, failures: number, last: string): void {
    if (instance.state !== 'ready' || this.timer === null) return
    let siblings = 0
    let siblingsPassing = 0
    for (const sibling of this.pool.active) {
      if (sibling === instance || sibling.role !== 'serving') continue
      siblings++
      if (this.stateOf(sibling).passed) siblingsPassing++
    }
    const verdict = decideHealth({ failures, siblings, siblingsPassing, recentEjections: this.ejections.recent() }, { failures: this.options.failures, intensity: this.intensity })
    if (verdict.do === 'eject') {
      if (this.ejections.eject(instance, 'health', { path: this.options.path, failures, last })) this.onEjected(instance, this.request)
    } else if (verdict.why === 'ejections spent') this.ejections.spent(instance, 'health')
  }

  private stateOf(instance: Instance): { failures: number; passed: boolean; running: boolean } {
    let state = this.state.get(instance)
    if (!state) this.state.set(instance, (state = { failures: 0, passed: true, running: false }))
    return state
  }
}
