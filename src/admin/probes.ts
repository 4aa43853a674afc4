import type { ServerResponse } from 'node:http'

/** What the probes read of the runtime. */
export interface ProbeView {
  /** Serving instances ready to take requests. */
  readyInstances(): number
  /** With components (src/components): each one's serving instances ready, by name. */
  components?(): readonly { name: string; ready: number }[]
  /** The runtime is draining (stopping, or handing over to a new runtime). */
  draining(): boolean
  /** The runtime gave up (its instances keep failing to start) and is about to exit. */
  gaveUp(): boolean
}

/** A probe's verdict and the checks behind it. */
export interface ProbeResult {
  ok: boolean
  checks: Record<string, { ok: boolean; detail: string }>
}

/** `/livez` and `/readyz` with Kubernetes' semantics (see README "Health probes"). */
export interface Probes {
  /** Alive: the main thread answers and the runtime has not given up. A failing liveness probe gets the container restarted. */
  live(): ProbeResult
  /**
   * Ready: instances started and ready, in every component, and not draining. A failing
   * readiness probe only takes it out of the load balancer.
   */
  ready(): ProbeResult
}

/**
 * The probes over a view of the runtime. Liveness is deliberately lenient: a runtime that
 * answers at all recovers by itself (instances are rebooted, the keeper swaps runtimes), and
 * restarting its container for a crashed instance would only lose what recovery keeps.
 *
 * Readiness asks every component for a ready instance: a component with none (all its
 * instances lost or rebooting at once) would hold its routes' requests in its queue until one
 * starts, while another replica could answer them now. Taking the replica out of the load
 * balancer only reroutes traffic; a component that cannot start at all makes the runtime give
 * up, which liveness reports.
 *
 * @example
 * ```ts
 * const probes = createProbes({ readyInstances: () => 2, draining: () => false, gaveUp: () => false })
 * probes.ready().ok // true
 * ```
 */
export function createProbes(view: ProbeView): Probes {
  return {
    live: () => verdict({ gaveUp: { ok: !view.gaveUp(), detail: view.gaveUp() ? 'instances keep failing to start; exiting' : 'running' } }),
    ready: () => {
      const ready = view.readyInstances()
      const draining = view.draining()
      const checks: ProbeResult['checks'] = { instances: { ok: ready > 0, detail: `${ready} serving instance(s) ready` } }
      const components = view.components?.() ?? []
      if (components.length > 1) {
        const none = components.filter((c) => c.ready === 0).map((c) => c.name)
        checks.components = {
          ok: none.length === 0,
          detail: `${components.map((c) => `${c.name} ${c.ready}`).join(', ')} ready${none.length > 0 ? `; none ready in ${none.join(', ')}` : ''}`,
        }
      }
      checks.draining = { ok: !draining, detail: draining ? 'draining: stopping or handing over to another runtime' : 'accepting' }
      return verdict(checks)
    },
  }
}

function verdict(checks: ProbeResult['checks']): ProbeResult {
  return { ok: Object.values(checks).every((c) => c.ok), checks }
}

/**
 * Answers a probe: 200 or 503, a JSON body with the checks, never cached. The status is what
 * Kubernetes reads; the body is for people.
 *
 * @example
 * ```ts
 * sendProbe(res, probes.ready())
 * ```
 */
export function sendProbe(res: ServerResponse, result: ProbeResult): void {
  const body = JSON.stringify({ status: result.ok ? 'ok' : 'failing', checks: result.checks })
  res.writeHead(result.ok ? 200 : 503, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  })
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

/**
 * Answers `<path>/livez` and `<path>/readyz` on the service port (`probes.path`), before the
 * request reaches the dispatcher; false for any other request, which goes on as usual. No
 * token: the answer says only whether this runtime is alive and ready.
 *
 * @example
 * ```ts
 * const probe = serviceProbe('/.crashless', probes)
 * if (probe(req, res)) return
 * ```
 */
export function serviceProbe(path: string, probes: Probes): (req: { url?: string | undefined; method?: string | undefined }, res: ServerResponse) => boolean {
  const live = `${path}/livez`
  const ready = `${path}/readyz`
  return (req, res) => {
    const url = req.url ?? ''
    if (!url.startsWith(path)) return false
    const bare = url.split('?', 1)[0]
    if (bare !== live && bare !== ready) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    sendProbe(res, bare === live ? probes.live() : probes.ready())
    return true
  }
}
