import pino, { type Logger } from 'pino'

/**
 * The runtime's structured log: one JSON line per event on stdout. Recovery events carry
 * `event`, what failed, the request, what was done and how long it took.
 *
 * @example
 * ```ts
 * const log = createLogger('info')
 * log.warn({ event: 'instance-lost', instance: 'i1', reason: 'crash' }, 'instance lost')
 * ```
 */
export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'crashless' }, timestamp: pino.stdTimeFunctions.isoTime })
}

export type { Logger }
