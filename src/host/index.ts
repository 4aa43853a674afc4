/** The host room runs inside instances; the rest of crashless only needs to know where. */
export const workerEntryUrl = new URL('./worker-main.js', import.meta.url)

// What apps import from 'crashless' to reach the current request's stores.
export { store, session, storeIn } from './current-store.js'
export type { Store, SetOptions, StoreEntry, StoreListOptions } from './store-api.js'
export type { Session } from './session-api.js'
export type { CrashlessContext } from './request-state.js'
export type { Storable } from './value-codec.js'

/** The entry of a `crashless replay` process (see replay-main.ts). */
export const replayEntryUrl = new URL('./replay-main.js', import.meta.url)
export type { ReplayMessage, ReplayPlan, ReplayRequest } from './replay-main.js'
export type { CheckLine, Finding } from './replay-checks.js'
export type { PlaybackReport } from './tape-player.js'
