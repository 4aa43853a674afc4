/**
 * An express-session store over crashless's `store`: an unmodified Express app gets sessions that
 * survive instance reboots and restarts (sqlite, redis) and are transactional with the request by
 * adding one option:
 *
 * ```ts
 * import session from 'express-session'
 * import { CrashlessSessionStore } from 'crashless/express-session'
 * app.use(session({ secret: process.env.SESSION_SECRET, resave: false, saveUninitialized: false,
 *   store: new CrashlessSessionStore() }))   // the one line
 * ```
 *
 * express-session saves a modified session as the response ends; here that save is a write of the
 * request's transaction, committed with the response. A request that crashes, times out or
 * answers 5xx after changing `req.session` leaves the stored session as it was.
 *
 * express-session itself is not a dependency of crashless: it is found where crashless is
 * installed (or the working directory), or passed in with `createSessionStore(session)`.
 */
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type expressSession from 'express-session'
import type { SessionData } from 'express-session'
import { CrashlessError } from '../errors.js'
import { storeIn } from '../host/index.js'
import { EXPRESS_SESSION_NAMESPACE } from '../state/index.js'

/** Options of CrashlessSessionStore. */
export interface CrashlessSessionStoreOptions {
  /** Lifetime of a session whose cookie has no expiry (no `cookie.maxAge`), in ms. Default: 86400000 (24 h). */
  ttlMs?: number
}

/** What is stored per session: the session and when it expires (epoch ms). */
interface StoredSession {
  s: SessionData
  e: number
}

type Callback<T> = ((err: unknown, value?: T) => void) | undefined
type SessionModule = { Store: typeof expressSession.Store }

const DAY_MS = 86_400_000
const sessions = storeIn(EXPRESS_SESSION_NAMESPACE, 'CrashlessSessionStore')

/**
 * Makes the store class from express-session's own `session` module (what connect-redis does),
 * for apps whose express-session crashless cannot find by itself.
 *
 * @example
 * ```ts
 * import session from 'express-session'
 * import { createSessionStore } from 'crashless/express-session'
 * const Store = createSessionStore(session)
 * app.use(session({ secret, resave: false, saveUninitialized: false, store: new Store() }))
 * ```
 */
export function createSessionStore(session: SessionModule): CrashlessSessionStoreClass {
  return class CrashlessSessionStore extends session.Store {
    readonly ttlMs: number

    constructor(options: CrashlessSessionStoreOptions = {}) {
      super()
      const ttlMs = options.ttlMs ?? DAY_MS
      if (!(Number.isSafeInteger(ttlMs) && ttlMs > 0)) throw new CrashlessError('CRASHLESS_ERR_STATE', `CrashlessSessionStore: ttlMs must be a positive integer, got ${String(ttlMs)}`)
      this.ttlMs = ttlMs
    }

    get(sid: string, callback: Callback<SessionData | null>): void {
      settle(load(sid).then((stored) => stored?.s ?? null), callback)
    }

    set(sid: string, session: SessionData, callback?: Callback<void>): void {
      settle(save(sid, session, lifetime(session, this.ttlMs)), callback)
    }

    destroy(sid: string, callback?: Callback<void>): void {
      settle(sessions.delete(sid), callback)
    }

    /**
     * express-session touches every unmodified session on every request. Rewriting it each time
     * would make each request a commit, and parallel requests of one client conflict; it is
     * rewritten only once half of its lifetime has passed.
     */
    touch(sid: string, session: SessionData, callback?: () => void): void {
      const ttlMs = lifetime(session, this.ttlMs)
      const refresh = load(sid).then((stored) => (stored && stored.e - Date.now() < ttlMs / 2 ? save(sid, session, ttlMs) : undefined))
      settle(refresh, callback)
    }

    all(callback: Callback<Record<string, SessionData>>): void {
      settle(
        sessions.list<StoredSession>('').then((entries) => Object.fromEntries(entries.filter((entry) => entry.value.e > Date.now()).map((entry) => [entry.key, entry.value.s]))),
        callback,
      )
    }

    length(callback: Callback<number>): void {
      settle(sessions.list<StoredSession>('').then((entries) => entries.filter((entry) => entry.value.e > Date.now()).length), callback)
    }

    clear(callback?: Callback<void>): void {
      settle(sessions.list('').then((entries) => Promise.all(entries.map((entry) => sessions.delete(entry.key))).then(() => undefined)), callback)
    }
  }
}

/** How long a session lives from now: until its cookie expires, else `ttlMs`. */
function lifetime(session: SessionData, ttlMs: number): number {
  const expires = session.cookie?.expires
  return expires ? new Date(expires).getTime() - Date.now() : ttlMs
}

async function load(sid: string): Promise<StoredSession | undefined> {
  const stored = await sessions.get<StoredSession>(sid)
  return stored && stored.e > Date.now() ? stored : undefined
}

async function save(sid: string, session: SessionData, ttlMs: number): Promise<void> {
  if (ttlMs <= 0) return sessions.delete(sid)
  await sessions.set(sid, { s: session, e: Date.now() + ttlMs }, { ttlMs })
}

/**
 * Calls back on the next tick, not inside the promise chain: an exception thrown by what the
 * callback runs (the rest of the request) must surface as the app's own error, as with
 * express-session's MemoryStore, not as a rejection swallowed here.
 */
function settle<T>(work: Promise<T>, callback: Callback<T> | (() => void)): void {
  work.then(
    (value) => process.nextTick(() => (callback as Callback<T>)?.(null, value)),
    (err: unknown) => process.nextTick(() => (callback as Callback<T>)?.(err)),
  )
}

/** An express-session Store kept in crashless's state store. */
export interface CrashlessSessionStore extends expressSession.Store {
  /** Lifetime of sessions whose cookie has no expiry. */
  readonly ttlMs: number
}

/** The class `createSessionStore` makes. */
export interface CrashlessSessionStoreClass {
  new (options?: CrashlessSessionStoreOptions): CrashlessSessionStore
}

function findExpressSession(): SessionModule | null {
  for (const from of [import.meta.url, join(process.cwd(), 'package.json')]) {
    try {
      return createRequire(from)('express-session') as SessionModule
    } catch {
      // Not installed there: try the next place.
    }
  }
  return null
}

const found = findExpressSession()

/**
 * The express-session store class (see the module's documentation).
 *
 * @example
 * ```ts
 * app.use(session({ secret, resave: false, saveUninitialized: false, store: new CrashlessSessionStore() }))
 * ```
 */
export const CrashlessSessionStore: CrashlessSessionStoreClass = found
  ? createSessionStore(found)
  : (class {
      constructor() {
        throw new CrashlessError('CRASHLESS_ERR_CONFIG', 'CrashlessSessionStore needs the express-session package, which was not found: install it (npm i express-session), or pass it in with createSessionStore(session)')
      }
    } as unknown as CrashlessSessionStoreClass)
