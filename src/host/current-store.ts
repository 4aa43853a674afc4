import { CrashlessError } from '../errors.js'
import { STORE_NAMESPACE, type RequestState } from './request-state.js'
import { BoundSession, type Session } from './session-api.js'
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

function current(api: string): RequestState {
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
 * The current client's session, bound like `store`: a signed cookie names it, and the first
 * write makes it. Throws CRASHLESS_ERR_NO_SESSION unless sessions are configured (`session: {}`).
 *
 * @example
 * ```ts
 * import { session } from 'crashless'
 * await session.set('cart', ['sku-1'])
 * const cart = await session.get<string[]>('cart')
 * ```
 */
export const session: Session = new BoundSession(() => current('session').session)

/**
 * A Store over `namespace` of the current request's transaction, for crashless's own adapters
 * (the express-session store keeps its sessions apart from the app's `store` keys). `api` names
 * the caller in errors.
 *
 * @example
 * ```ts
 * const sessions = storeIn(EXPRESS_SESSION_NAMESPACE, 'CrashlessSessionStore')
 * ```
 */
export function storeIn(namespace: string, api: string): Store {
  return new NamespacedStore(() => ({ tx: current(api).transaction, namespace }))
}
