/**
 * The admin room: the small HTTP endpoint behind `crashless immunity ls|release` and health.
 *
 * @example
 * ```ts
 * import { startAdmin } from '../admin/index.js'
 * const admin = await startAdmin(config, { immunity, health }, log)
 * ```
 */
export { startAdmin, type AdminServer } from './admin-server.js'
export type { AdminDeps, HealthReport } from './admin-routes.js'
