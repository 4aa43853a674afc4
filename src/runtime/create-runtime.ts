import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { logAdminUnavailable } from '../admin/index.js'
import type { ResolvedConfig } from '../config/index.js'
import { ConfigError, CrashlessError } from '../errors.js'
import type { Logger } from '../log.js'
import { startRuntime } from './start-runtime.js'

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
 * Starts instances of the app, then binds the HTTP front (and the admin endpoint) itself: one
 * process, no keeper (`crashless run --no-keeper`, or embedding crashless in a program). Rejects
 * with an `AppLoadError` naming the file when the app cannot be loaded, without binding anything.
 *
 * @throws ConfigError naming `runtimes` when it asks for more than one: only a keeper runs several.
 *
 * @example
 * ```ts
 * const runtime = await createRuntime(await loadConfig({ cwd, overrides: { entry: 'app.ts' } }), createLogger('info'))
 * process.once('SIGTERM', () => runtime.close())
 * ```
 */
export async function createRuntime(config: ResolvedConfig, log: Logger): Promise<Runtime> {
  // Several runtimes share a socket only through a keeper; without one this is the only process.
  if (config.runtimes > 1) {
    throw new ConfigError('runtimes', `${config.runtimes} runtime processes need the keeper, and this crashless runs without one (--no-keeper, or embedded): set runtimes: 1, or run it under the keeper`)
  }
  const started = await startRuntime(config, log, null)
  const { admin } = config
  if (started.admin) {
    try {
      await listen(started.admin.server, admin.port, admin.host)
      started.admin.announce(started.admin.server.address() as AddressInfo)
    } catch (err) {
      logAdminUnavailable(log, admin.host, admin.port, err as Error)
    }
  }
  const { port, host } = started.wants
  try {
    await listen(started.front, port, host)
  } catch (err) {
    // The instances are running by now; without stopping them the process would print the
    // error and then stay alive, serving nothing.
    await started.close()
    const where = host === undefined ? `port ${port}` : `${host}:${port}`
    throw new ConfigError('port', `cannot listen on ${where}: ${(err as Error).message}`, { cause: err })
  }
  const address = started.front.address() as AddressInfo
  started.announce(address)
  return { address, failed: started.failed, close: started.close }
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
