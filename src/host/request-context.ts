import { AsyncLocalStorage } from 'node:async_hooks'
import type { RequestState } from './request-state.js'

/** What an instance knows about the request whose code is running. */
export interface RequestContext {
  id: number
  /** The request's stores and transaction; absent for upgraded connections. */
  state?: RequestState
}

/**
 * Every request runs inside this storage, so an error raised anywhere in its asynchronous
 * continuation (a timer, a promise, an emitter callback) can be attributed to it, and
 * `store`/`session` find its transaction.
 */
export const requestStorage = new AsyncLocalStorage<RequestContext>()

/** The id of the request whose async context is current, or null outside any request. */
export function currentRequestId(): number | null {
  return requestStorage.getStore()?.id ?? null
}

/** The store state of the request whose async context is current, or null outside any request. */
export function currentRequestState(): RequestState | null {
  return requestStorage.getStore()?.state ?? null
}
