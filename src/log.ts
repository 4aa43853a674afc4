import pino, { type Logger } from 'pino'
import { observe } from './metrics/index.js'

/**
 * The runtime's structured log: one JSON line per event on stdout. Recovery events carry
 * `event`, what failed, the request, what was done and how long it took. Every event also
 * passes by the dashboard's timeline (src/metrics/timeline.ts), which keeps the recoveries.
 *
 * @example
 * ```ts
 * const log = createLogger('info')
 * log.warn({ event: 'instance-lost', instance: 'i1', reason: 'crash' }, 'instance lost')
 * ```
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { name: 'crashless' },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: {
      // Child loggers inherit the hook. Only calls at an enabled level reach it.
      logMethod(args, method, levelNumber) {
        const [first, second] = args as unknown[]
        if (first !== null && typeof first === 'object') observe(levelNumber, first as Record<string, unknown>, typeof second === 'string' ? second : undefined)
        return method.apply(this, args)
      },
    },
  })
}

export type { Logger }
