import type { Logger } from 'pino'
import type { ResolvedConfig } from '../config/index.js'
import { fingerprint, hashConfig } from './fingerprint.js'
import { IncidentStore } from './incident-store.js'
import { appDirOf } from './stack-frame.js'

/**
 * The incident store of a runtime, from its config: `incidents.dir` (relative to the working
 * directory), its bounds and redaction rules, how the app is run (for replay) and the
 * environment's fingerprint, computed here once for every incident the runtime writes.
 *
 * @example
 * ```ts
 * const incidents = openIncidentStore(config, log)
 * ```
 */
export function openIncidentStore(config: ResolvedConfig, log: Logger): IncidentStore {
  const { incidents, limits, timeouts, session } = config
  const appDir = appDirOf(config.entry)
  let environment = null
  try {
    environment = fingerprint(appDir, hashConfig(config), incidents.redact.env)
  } catch (err) {
    log.warn({ event: 'fingerprint-failed', error: (err as Error).message }, 'the environment fingerprint could not be taken; incidents go without it')
  }
  return new IncidentStore(
    incidents.dir,
    { maxCount: incidents.maxCount, maxBytes: incidents.maxBytes },
    {
      app: { entry: config.entry, style: config.style, heapMb: limits.heapMb, stackMb: limits.stackMb, externalMb: limits.externalMb, leaseMs: timeouts.leaseMs, requestMs: timeouts.requestMs, sessions: session.enabled ? { ttlMs: session.ttlMs } : null },
      appDir,
      environment,
      rules: incidents.redact,
      maxBodyBytes: incidents.maxBodyBytes,
    },
    log,
  )
}
