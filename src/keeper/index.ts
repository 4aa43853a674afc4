/**
 * The keeper room (ladder level 4, Otherworld's crash kernel): the outer process of `crashless
 * run` that owns the listening sockets, keeps `runtimes` active runtimes and a warm standby,
 * promotes the standby when an active one dies, relays immunity verdicts and admin reports
 * between its runtimes, and stops when runtimes die too often.
 *
 * @example
 * ```ts
 * import { Keeper } from '../keeper/index.js'
 * process.exitCode = await new Keeper({ args, log, inFlightDir }).run()
 * ```
 */
export { Keeper, type KeeperOptions } from './keeper.js'
export { isIntensityExceeded, forgetOldRestarts, type IntensityPolicy } from './restart-intensity.js'
export { SuspectBook } from './suspect-book.js'
export * from './keeper-protocol.js'
