/**
 * The admin room: the small HTTP endpoint behind `crashless immunity`, `crashless status`,
 * Prometheus scrapes and Kubernetes probes.
 *
 * @example
 * ```ts
 * import { createAdmin } from '../admin/index.js'
 * const admin = createAdmin(config, deps, log)
 * ```
 */
export { createAdmin, type AdminHttp } from './admin-server.js'
export { logAdminUnavailable } from './admin-unavailable.js'
export { createProbes, serviceProbe, type ProbeView, type Probes } from './probes.js'
export type { AdminDeps, HealthReport, InstancesReport } from './admin-routes.js'
