import { statSync } from 'node:fs'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { pathToFileURL } from 'node:url'
import { installListenCapture, type ListenRequest } from './capture-listen.js'
import { locateSyntaxError } from './locate-syntax-error.js'
import type { CrashlessContext } from './request-state.js'

/**
 * A fetch handler: `(request) => Response`, as Hono, itty-router and friends export. crashless
 * passes the request's `ctx` (stores) as the second argument (Hono sees it as `c.env`).
 */
export type FetchHandler = (request: Request, ctx: CrashlessContext) => Response | Promise<Response>

/** A Node request listener, as Express and `http.createServer` take. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void

/** How the loaded app is called for each request. */
export type LoadedApp =
  | { style: 'fetch'; fetch: FetchHandler; listen: null; server: null }
  | { style: 'node'; listener: NodeListener; listen: null; server: null }
  /** `server` receives `upgrade` events (WebSocket) relayed from the dispatcher. */
  | { style: 'listen'; listener: NodeListener; listen: ListenRequest; server: Server }

/** Why the app could not be loaded; the worker reports it with the file name. */
export class AppStartError extends Error {
  override readonly name = 'AppStartError'
  readonly code = 'CRASHLESS_ERR_APP_START'
}

const TS_EXTENSIONS = /\.(?:ts|mts|cts|tsx)$/

/**
 * Imports the user's entry and finds how to call it: a default export with `.fetch`, a fetch
 * function, a `(req, res)` listener, or a server the script bound itself with listen().
 *
 * @example
 * ```ts
 * const app = await loadApp({ entry: '/srv/app.ts', style: 'auto', startTimeoutMs: 10_000, advertisedPort: 3000 })
 * ```
 */
export async function loadApp(options: {
  entry: string
  style: 'auto' | 'fetch' | 'node' | 'listen'
  startTimeoutMs: number
  advertisedPort: number | undefined
}): Promise<LoadedApp> {
  const { entry, style } = options
  // Checked here because import() would blame crashless's own loader ("imported from ...").
  const stats = statSync(entry, { throwIfNoEntry: false })
  if (!stats) throw new AppStartError('the file does not exist')
  if (!stats.isFile()) throw new AppStartError('it is not a file')
  const capture = installListenCapture(options.advertisedPort)
  if (TS_EXTENSIONS.test(entry)) {
    // tsx compiles TypeScript on import, so `.ts` entries need no build step.
    const { register } = await import('tsx/esm/api')
    register()
  }
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>
  } catch (err) {
    throw locateSyntaxError(err, entry)
  }
  const exported = unwrapDefault(mod)

  if (style !== 'listen' && capture.all.length === 0) {
    const fetch = asFetchHandler(exported, style)
    if (fetch) return { style: 'fetch', fetch, listen: null, server: null }
    const listener = asNodeListener(exported, style)
    if (listener) return { style: 'node', listener, listen: null, server: null }
    if (style === 'fetch') throw new AppStartError('the default export has no fetch(request) method and is not a fetch function')
    if (style === 'node') throw new AppStartError('the default export is not a (req, res) listener function')
    // A primitive can never become an app, so waiting for a listen() call would only delay the error.
    if (exported !== undefined && !isObject(exported) && typeof exported !== 'function') {
      throw new AppStartError(`its default export is ${describeValue(exported)}, not a fetch handler, an object with fetch(request), or a (req, res) listener`)
    }
  }

  const captured = await withTimeout(capture.first, options.startTimeoutMs)
  if (!captured) {
    throw new AppStartError(
      `it does not export a fetch handler or a (req, res) listener (${describeExport(mod, exported)}), and did not call listen() within ${options.startTimeoutMs} ms`,
    )
  }
  const { server } = captured
  const listeners = server.listeners('request')
  // A lone Express app as the listener is passed through as itself (see serve-node.ts).
  const listener =
    listeners.length === 1
      ? (listeners[0] as NodeListener)
      : (req: IncomingMessage, res: ServerResponse) => {
          server.emit('request', req, res)
        }
  return { style: 'listen', listener, listen: captured.listen, server }
}

/** ESM default, or CJS `module.exports` surfaced as `default` (possibly twice, by bundlers). */
function unwrapDefault(mod: Record<string, unknown>): unknown {
  let value: unknown = 'default' in mod ? mod.default : undefined
  if (isObject(value) && 'default' in value && !('fetch' in value) && typeof value !== 'function') {
    value = (value as { default: unknown }).default
  }
  return value
}

function asFetchHandler(value: unknown, style: string): FetchHandler | null {
  if ((isObject(value) || typeof value === 'function') && typeof (value as { fetch?: unknown }).fetch === 'function') {
    const target = value as { fetch: FetchHandler }
    return (request, ctx) => target.fetch(request, ctx)
  }
  // A bare function is a fetch handler when it declares one parameter (or the user said so);
  // a Node listener declares two or more (Express apps declare three).
  if (typeof value === 'function' && (style === 'fetch' || (style === 'auto' && value.length <= 1))) {
    return value as FetchHandler
  }
  return null
}

function asNodeListener(value: unknown, style: string): NodeListener | null {
  if (typeof value === 'function' && (style === 'node' || value.length >= 2)) return value as NodeListener
  // A Koa application object: its request listener comes from callback().
  if (isObject(value) && typeof (value as { callback?: unknown }).callback === 'function' && typeof (value as { use?: unknown }).use === 'function') {
    return (value as { callback: () => NodeListener }).callback()
  }
  return null
}

/** What the module exported, for the error a user reads when nothing usable was found. */
function describeExport(mod: Record<string, unknown>, exported: unknown): string {
  if (exported !== undefined) return `its default export is ${describeValue(exported)}`
  const names = Object.keys(mod).filter((name) => name !== 'default')
  return names.length === 0 ? 'it exports nothing' : `it has no default export, only ${names.join(', ')}`
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'function') return `a function of ${value.length} parameter(s)`
  if (typeof value === 'object') {
    const keys = Object.keys(value).slice(0, 5)
    return keys.length === 0 ? 'an empty object' : `an object with ${keys.join(', ')}`
  }
  if (typeof value === 'string') return `a string (${JSON.stringify(value.slice(0, 40))})`
  return `a ${typeof value} (${String(value)})`
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
