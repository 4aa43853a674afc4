/**
 * One log record as a line for people: time, level, event, the message (what failed), then
 * what was done and how long it took, then the other fields, dimmed. Colours only when asked
 * (a terminal, and NO_COLOR unset). Every string is made printable first: URLs and signatures
 * come from clients, and a raw escape sequence in one could drive the operator's terminal.
 */

const FIRST = ['instance', 'role', 'reason', 'why', 'kind', 'signature', 'method', 'url', 'error', 'code', 'tweak', 'count']
/** Fields pino or the logger's bindings add, or that the line shows elsewhere. */
const HIDDEN = new Set(['level', 'time', 'name', 'hostname', 'msg', 'event', 'action', 'aggregated'])

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[90m'],
  30: ['INFO ', '\x1b[36m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[41;97m'],
}
const RESET = '\x1b[0m'
const BOLD = '\x1b[1m'
const DIM = '\x1b[2m'
const GREEN = '\x1b[32m'

/**
 * @example
 * ```ts
 * prettyLine({ level: 40, time: '2026-12-07T07:01:02.345Z', event: 'instance-lost', instance: 'i1', reason: 'crash', action: 'replaced by spare', swapMs: 0.4, msg: 'instance i1 lost (crash); replaced' }, false)
 * // '07:01:02.345 WARN  instance-lost  instance i1 lost (crash); replaced → replaced by spare (swap 0.4 ms)  instance=i1 reason=crash'
 * ```
 */
export function prettyLine(record: Record<string, unknown>, colour: boolean): string {
  const paint = (code: string, text: string): string => (colour ? `${code}${text}${RESET}` : text)
  const [levelName, levelColour] = LEVELS[record.level as number] ?? ['LOG  ', '']
  const time = typeof record.time === 'string' ? record.time.slice(11, 23) : new Date(typeof record.time === 'number' ? record.time : Date.now()).toISOString().slice(11, 23)
  const parts = [paint(DIM, time), paint(levelColour, levelName)]
  if (typeof record.event === 'string') parts.push(paint(BOLD, printable(record.event)))
  let line = parts.join(' ')
  if (typeof record.msg === 'string') line += `  ${printable(record.msg)}`
  const done = typeof record.action === 'string' ? printable(record.action) : ''
  const took = durations(record)
  if (done !== '' || took !== '') line += paint(GREEN, ` → ${[done, took].filter((t) => t !== '').join(' ')}`)
  const fields: string[] = []
  for (const key of FIRST) if (key in record) pushField(fields, key, record[key])
  for (const [key, value] of Object.entries(record)) {
    if (!HIDDEN.has(key) && !FIRST.includes(key) && !isDuration(key)) pushField(fields, key, value)
  }
  if (fields.length > 0) line += `  ${paint(DIM, fields.join(' '))}`
  return `${line}\n`
}

function isDuration(key: string): boolean {
  return key.endsWith('Ms') && key !== 'quarantineMs'
}

/** `(swap 0.4 ms, took 12 ms)` from the record's `…Ms` fields. */
function durations(record: Record<string, unknown>): string {
  const found: string[] = []
  for (const [key, value] of Object.entries(record)) {
    if (isDuration(key) && typeof value === 'number') found.push(`${key.slice(0, -2).replace(/([A-Z])/g, ' $1').toLowerCase()} ${value} ms`)
  }
  return found.length > 0 ? `(${found.join(', ')})` : ''
}

function pushField(fields: string[], key: string, value: unknown): void {
  if (value === undefined || value === null) return
  let text: string
  if (typeof value === 'string') text = value
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value)
  else if (typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') text = (value as { message: string }).message
  else text = JSON.stringify(value)
  text = printable(text)
  fields.push(`${key}=${/[\s"]/.test(text) || text === '' ? JSON.stringify(text) : text}`)
}

/**
 * Control characters (C0, DEL, C1) shown as `\uXXXX`.
 *
 * @example
 * ```ts
 * printable('a\x1b[2Jb') // 'a\\u001b[2Jb'
 * ```
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
