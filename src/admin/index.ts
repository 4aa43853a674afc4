/**
 * The admin room: the small HTTP endpoint behind `crashless immunity ls|release` and health.
 *
 * @example
 * ```ts
 * import { createAdmin } from '../admin/index.js'
 * const admin = createAdmin(config, { immunity, health }, log)
 * ```
 */
export { createAdmin, type AdminHttp } from './admin-server.js'
export { logAdminUnavailable } from './admin-unavailable.js'
export type { AdminDeps, HealthReport } from './admin-routes.js'
