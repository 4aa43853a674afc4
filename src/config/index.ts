/**
 * The public surface of the config room: what `crashless.config.ts` authors and the CLI use.
 * The helpers behind it (checks, merging, suggestions) stay internal so they can change.
 */

export type { CrashlessConfig, EntryStyle, Isolation, ResolvedConfig } from './types.js'
export { defineConfig } from './define-config.js'
export { defaults, type ConfigDefaults } from './defaults.js'
export { loadConfig, loadConfigFile, CONFIG_FILE_NAMES } from './load-config.js'
export { isLoopbackHost, checkAdminExposure } from './check-admin.js'
export { resolveConfig } from './validate.js'
export { readCacheBytes } from './read-cache-bytes.js'
export type { ComponentLimits, ComponentOptions, GroupOptions, HealthCheckOptions, OutlierOptions, ResolvedComponent, ResolvedGroup } from './component-types.js'
export { DEFAULT_COMPONENT } from './check-components.js'
export { componentConfig, resolveComponents, resolveGroups } from './resolve-components.js'
