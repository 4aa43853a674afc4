import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ResolvedConfig } from '../config/index.js'
import { Dispatcher } from '../dispatch/index.js'
import { AppLoadError, CrashlessError } from '../errors.js'
import { createFront } from '../front/index.js'
import type { Logger } from '../log.js'
import type { SerializedError } from '../protocol.js'
import { Pool } from '../supervise/index.js'
import { relayUpgrade } from './relay-upgrade.js'

/** A started crashless runtime. */
export interface Runtime {
  /** The address the service is bound to. */
  readonly address: AddressInfo
  /** Stops accepting, drains in-flight requests (bounded by `timeouts.drainMs`), stops instances. */
  close(): Promise<{ drained: boolean; abandoned: number }>
  /** Resolves when the runtime gives up (spares keep failing to start). */
  readonly failed: Promise<CrashlessError>
}

/**
 * Starts instances of the app, then binds the HTTP front. Rejects with an `AppLoadError`
 * naming the file when the app cannot be loaded, without binding anything.
 *
 * @example
 * ```ts
 * const runtime = await createRuntime(await loadConfig({ cwd, overrides: { entry: 'app.ts' } }), createLogger('info'))
 * process.once('SIGTERM', () => runtime.close())
 * ```
 */
export async function createRuntime(config: ResolvedConfig, log: Logger): Promise<Runtime> {
  const dispatcher = new Dispatcher(config, log)
  let fail: (err: CrashlessError) => void = () => {}
  const failed = new Promise<CrashlessError>((resolve) => {
    fail = resolve
  })
  const pool = new Pool(config, log, {
    onMessage: (instance, msg) => dispatcher.handleMessage(instance, msg),
    onLost: (instance, loss, swapMs) => dispatcher.handleLost(instance, loss, swapMs),
    onCapacity: () => dispatcher.pump(),
    onStartFailures: (error) => fail(new AppLoadError(config.entry, describe(error))),
  })
  dispatcher.attach(pool)

  const startedAt = performance.now()
  let ready
  try {
    ready = await pool.start()
  } catch (err) {
    throw new AppLoadError(config.entry, describe(err as SerializedError), { cause: err })
  }
  const front = createFront(config, log, {
    submit: (req, res, body) => dispatcher.submit(req, res, body),
    upgrade: (req, socket, head) => relayUpgrade(pool, log, req, socket, head),
  })
  const port = config.port ?? ready.listen?.port ?? 3000
  const host = config.host ?? ready.listen?.host
  await listen(front, port, host)
  const address = front.address() as AddressInfo
  pool.setAdvertisedPort(address.port)
  log.info(
    { event: 'listening', address: address.address, port: address.port, style: ready.style, instances: config.instances, spares: config.spares, startMs: Math.round(performance.now() - startedAt) },
    `crashless serving ${config.entry} on http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
  )

  let closing: Promise<{ drained: boolean; abandoned: number }> | null = null
  return {
    address,
    failed,
    close: () => (closing ??= shutdown(front, dispatcher, pool, config.timeouts.drainMs)),
  }
}

async function shutdown(front: Server, dispatcher: Dispatcher, pool: Pool, drainMs: number): Promise<{ drained: boolean; abandoned: number }> {
  dispatcher.beginClosing()
  const closed = new Promise<void>((resolve) => front.close(() => resolve()))
  front.closeIdleConnections()
  const deadline = performance.now() + drainMs
  // Polling the in-flight count is simpler than threading a "drained" event through every
  // completion path, and shutdown is rare.
  while (dispatcher.pending > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    front.closeIdleConnections()
  }
  const abandoned = dispatcher.pending
  front.closeAllConnections()
  await closed
  await pool.stop()
  return { drained: abandoned === 0, abandoned }
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function describe(error: SerializedError | undefined): string {
  if (!error) return 'unknown error'
  const where = error.stack?.split('\n').find((line) => line.includes('file://') || line.trim().startsWith('at '))
  return `${error.name}: ${error.message}${where ? ` (${where.trim()})` : ''}`
}
