import pino, { type Logger } from 'pino'
import { prettyDestination, Repeats, resolveLogFormat, wantsColour, type LogFormat } from './log/index.js'
import { observe } from './metrics/index.js'

/**
 * The runtime's log: one line per event on stdout, JSON (`format: 'json'`, and `auto` when
 * stdout is not a terminal) or one readable coloured line (`pretty`, and `auto` on a
 * terminal). The `event` field names are the same either way. Recovery events carry `event`,
 * what failed, the request, what was done (`action`) and how long it took (`…Ms`). Repeats of
 * a few flood-prone events (`quarantine-hit`) are folded into one line per signature every
 * 5 s (src/log/repeats.ts). Every event also passes by the dashboard's timeline
 * (src/metrics/timeline.ts), which keeps the recoveries.
 *
 * @example
 * ```ts
 * const log = createLogger('info', 'auto')
 * log.warn({ event: 'instance-lost', instance: 'i1', reason: 'crash' }, 'instance lost')
 * ```
 */
export function createLogger(level: string, format: LogFormat = 'json'): Logger {
  const repeats = new Repeats()
  const options: pino.LoggerOptions = {
    level,
    base: { name: 'crashless' },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: {
      // Child loggers inherit the hook. Only calls at an enabled level reach it. A component's
      // child logger binds `component`: the timeline reads it from the bindings.
      logMethod(args, method, levelNumber) {
        const [first, second] = args as unknown[]
        if (first !== null && typeof first === 'object') {
          const fields = first as Record<string, unknown>
          if (repeats.absorb(fields, (summary, msg) => method.call(this, summary, msg))) return
          observe(levelNumber, fields, typeof second === 'string' ? second : undefined, () => this.bindings())
        }
        return method.apply(this, args)
      },
    },
  }
  return resolveLogFormat(format) === 'pretty' ? pino(options, prettyDestination(process.stdout, wantsColour())) : pino(options)
}

export type { LogFormat, Logger }
