import { prettyLine } from './pretty-line.js'

/** How log lines are written: `pretty` for people, `json` for machines, `auto`: pretty on a terminal. */
export type LogFormat = 'auto' | 'pretty' | 'json'

/**
 * The format `auto` stands for on this process's stdout: pretty on a terminal, JSON when stdout
 * is a pipe or a file (a log collector, the tests).
 *
 * @example
 * ```ts
 * resolveLogFormat('auto') // 'pretty' in a terminal
 * ```
 */
export function resolveLogFormat(format: LogFormat, isTTY = process.stdout.isTTY === true): 'pretty' | 'json' {
  return format === 'auto' ? (isTTY ? 'pretty' : 'json') : format
}

/**
 * A pino destination that writes each record as a pretty line, in this thread: pino hands it
 * the JSON line it made, which is parsed back (a few µs; log lines are rare on the request
 * path, and repeated ones are folded: see repeats.ts). No transport worker thread per
 * process. Colours when `colour` (a terminal, NO_COLOR unset).
 *
 * @example
 * ```ts
 * pino({}, prettyDestination(process.stdout, true))
 * ```
 */
export function prettyDestination(out: { write(text: string): unknown }, colour: boolean): { write(line: string): void } {
  return {
    write(line: string) {
      let record: Record<string, unknown>
      try {
        record = JSON.parse(line) as Record<string, unknown>
      } catch {
        out.write(line)
        return
      }
      out.write(prettyLine(record, colour))
    },
  }
}

/**
 * Whether pretty lines get colours on stdout: on a terminal, unless NO_COLOR is set (no-color.org).
 *
 * @example
 * ```ts
 * prettyDestination(process.stdout, wantsColour())
 * ```
 */
export function wantsColour(isTTY = process.stdout.isTTY === true, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTTY && (env.NO_COLOR ?? '') === ''
}
