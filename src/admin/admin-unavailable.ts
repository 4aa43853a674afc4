import type { Logger } from 'pino'

/**
 * Logs that the admin endpoint could not be bound (`admin-unavailable`, level error): the
 * service matters more than its control panel, so crashless serves without it. Said the same
 * way whether the runtime binds it itself or a keeper does.
 *
 * @example
 * ```ts
 * logAdminUnavailable(log, '127.0.0.1', 9300, new Error('listen EADDRINUSE'))
 * ```
 */
export function logAdminUnavailable(log: Logger, host: string | undefined, port: number, err: Error): void {
  log.error(
    { event: 'admin-unavailable', host, port, error: err.message },
    `the admin endpoint cannot listen on ${host}:${port} (${err.message}); serving without it. Set admin.port (0 picks a free port) or admin.enabled: false`,
  )
}
