/**
 * The log room: how a record becomes a line (JSON or pretty), and repeated events folded.
 *
 * @example
 * ```ts
 * import { prettyDestination, Repeats, resolveLogFormat } from './log/index.js'
 * ```
 */
export { prettyDestination, resolveLogFormat, wantsColour, type LogFormat } from './destination.js'
export { prettyLine, printable } from './pretty-line.js'
export { REPEAT_INTERVAL_MS, REPEATED_EVENTS, Repeats } from './repeats.js'
