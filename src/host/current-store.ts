import { CrashlessError } from '../errors.js'
import { STORE_NAMESPACE, type RequestState } from './request-state.js'
import { NamespacedStore, type Store } from './store-api.js'

/**
 * How `import { store } from 'crashless'` finds the current request: the instance registers a
 * lookup on globalThis under a registered symbol. A symbol rather than a module variable, so an
 * app that bundles or installs its own copy of crashless still reaches the instance's requests.
 */
const CURRENT = Symbol.for('crashless.current-request-state')

type Lookup = () => RequestState | null

/** Called once by the instance: `lookup` returns the state of the request whose async context is current. */
export function registerRequestLookup(lookup: Lookup): void {
  ;(globalThis as { [CURRENT]?: Lookup })[CURRENT] = lookup
}

function current(api: 'store' | 'session'): RequestState {
  const lookup = (globalThis as { [CURRENT]?: Lookup })[CURRENT]
  if (!lookup) {
    throw new CrashlessError('CRASHLESS_ERR_NO_REQUEST', `${api} works only in an app served by crashless (\`crashless run <entry>\`), inside a request`)
  }
  const state = lookup()
  if (!state) {
    throw new CrashlessError(
      'CRASHLESS_ERR_NO_REQUEST',
      `${api} was used outside a request: call it while handling one (in the handler or code it runs), not at module load or from a timer no request started`,
    )
  }
  return state
}

/**
 * The durable key-value store, bound to the current request through AsyncLocalStorage.
 *
 * @example
 * ```ts
 * import { store } from 'crashless'
 * export default {
 *   async fetch() {
 *     const visits = ((await store.get<number>('visits')) ?? 0) + 1
 *     await store.set('visits', visits)
 *     return new Response(`visit ${visits}`)
 *   },
 * }
 * ```
 */
export const store: Store = new NamespacedStore(() => ({ tx: current('store').transaction, namespace: STORE_NAMESPACE }))

/**
 * The current client's session, bound like `store`; its keys live under the session's id.
 * Throws CRASHLESS_ERR_NO_SESSION until sessions are configured.
 *
 * @example
 * ```ts
 * import { session } from 'crashless'
 * await session.set('cart', ['sku-1'], { ttlMs: 3_600_000 })
 * ```
 */
export const session: Store = new NamespacedStore(() => {
  const state = current('session')
  return { namespace: state.sessionNamespace, tx: state.transaction }
})
