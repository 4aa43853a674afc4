/**
 * The in-flight room: the files where each instance keeps the requests it has in flight, so the
 * keeper can name a request that killed a whole runtime process (see in-flight-file.ts). A room
 * of its own, not the keeper's, because every instance writes these files at start: importing
 * the keeper's room would load the keeper, the admin server, the stores' clients and the metrics
 * registry into every worker thread (~90 ms of a ~135 ms instance start, measured on Node 20),
 * and an instance's start is what a swap to a spare or a sacrificial re-run waits for.
 *
 * @example
 * ```ts
 * import { formatInFlight, InFlightFile } from '../in-flight/index.js'
 * const file = InFlightFile.open(dir, process.pid, threadId)
 * const slot = file.add(formatInFlight({ method: 'GET', url: '/kill', bodyHash: '-' }))
 * ```
 */
export { InFlightFile, IN_FLIGHT_DIR_ENV, inFlightPath, readInFlight } from './in-flight-file.js'
export { formatInFlight, parseInFlight, type InFlightRecord } from './in-flight-record.js'
