import { CrashlessError } from '../errors.js'
import type { InstanceInit, TransactionPayload } from '../protocol.js'
import { STORE_NAMESPACE } from '../state/index.js'
import { BoundSession, type Session } from './session-api.js'
import { SessionState } from './session-state.js'
import { NamespacedStore, type Store } from './store-api.js'
import type { StoreClient } from './store-client.js'
import { Transaction } from './transaction.js'

export { STORE_NAMESPACE }

/**
 * What a handler receives as `ctx`: the second argument of a fetch handler, `req.crashless` in a
 * Node listener. Its stores are bound to that request, even from code that lost the async context.
 */
export interface CrashlessContext {
  /** The durable key-value store shared by every request. */
  readonly store: Store
  /** This client's session (throws CRASHLESS_ERR_NO_SESSION unless sessions are configured). */
  readonly session: Session
}

declare module 'http' {
  interface IncomingMessage {
    /** Set by crashless on every request it serves (Node listeners, Express, listen() scripts): its stores. */
    readonly crashless: CrashlessContext
  }
}

/**
 * One request's access to the stores, made when the request arrives. It costs nothing until
 * the handler touches a store: the transaction and the bound stores are created on first use.
 *
 * @example
 * ```ts
 * const state = new RequestState(msg.id, client, init.sessions, msg.sessionId ?? null)
 * await state.context.store.set('greeting', 'hi')
 * const payload = state.seal(200) // sent with the response, committed before the client sees it
 * ```
 */
export class RequestState {
  private tx: Transaction | null = null
  private sealed = false
  private ctx: CrashlessContext | null = null
  private sessionState: SessionState | null = null

  constructor(
    readonly id: number,
    private readonly client: StoreClient,
    /** Null when sessions are not configured. */
    private readonly sessions: InstanceInit['sessions'],
    /** The session the request's cookie names (verified by the dispatcher), if any. */
    private readonly sessionId: string | null,
  ) {}

  get transaction(): Transaction {
    if (!this.tx) {
      this.tx = new Transaction(this.id, this.client)
      if (this.sealed) this.tx.seal()
    }
    return this.tx
  }

  /** The request's session; throws CRASHLESS_ERR_NO_SESSION when sessions are not configured. */
  get session(): SessionState {
    if (this.sessions === null) {
      throw new CrashlessError('CRASHLESS_ERR_NO_SESSION', 'sessions are not configured for this app, so there is no session for this request: add `session: {}` to crashless.config, or use store')
    }
    return (this.sessionState ??= new SessionState(this.sessionId, this.sessions.ttlMs, () => this.transaction))
  }

  /**
   * The response is going out: what to commit with it (undefined: nothing). A 5xx response is a
   * failed request, whatever produced it (frameworks turn a thrown error into a 500 page), so its
   * writes are dropped, as they would be had the error reached crashless.
   */
  seal(status: number): TransactionPayload | undefined {
    this.sealed = true
    const payload = this.tx?.seal()
    if (status >= 500) return undefined
    // A cookie change always comes with a write of the session's record, so with a payload.
    const cookie = this.sessionState?.cookieChange()
    if (payload && cookie) payload.session = cookie
    return payload
  }

  /** The `ctx` handed to the handler; its stores are made on first use. */
  get context(): CrashlessContext {
    return (this.ctx ??= new BoundContext(this))
  }
}

/** A request's `ctx`: stores bound to that request, whatever async context calls them. */
class BoundContext implements CrashlessContext {
  readonly #state: RequestState
  #store: Store | null = null
  #session: Session | null = null

  constructor(state: RequestState) {
    this.#state = state
  }

  get store(): Store {
    const state = this.#state
    return (this.#store ??= new NamespacedStore(() => ({ tx: state.transaction, namespace: STORE_NAMESPACE })))
  }

  get session(): Session {
    const state = this.#state
    return (this.#session ??= new BoundSession(() => state.session))
  }
}
