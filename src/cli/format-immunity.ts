/** One entry of `GET /immunity`, as the CLI expects it. */
export interface ListedEntry {
  signature: string
  failures: number
  lastFailure: string
  firstFailureAt: number
  quarantinedUntil: number
  /** The tweak requests like it run under (absent from older crashless versions). */
  cure?: string | null
  /** The incident of the verdict that quarantined it. */
  incidentId?: string | null
}

/**
 * Renders immunity entries as an aligned text table: signature, failures, last failure, the
 * cure the recovery ladder found, the incident of a verdict, quarantined until (with the time left). Control characters are escaped, so a crafted
 * request URL cannot smuggle terminal escape sequences into an operator's screen.
 *
 * @example
 * ```ts
 * formatImmunityTable([{ signature: 'GET /boom #-', failures: 3, lastFailure: 'crash:exception', firstFailureAt: 0, quarantinedUntil: Date.now() + 60_000, incidentId: 'inc-1' }])
 * // SIGNATURE     FAILURES  LAST FAILURE     CURE  INCIDENT  QUARANTINED UNTIL
 * // GET /boom #-  3         crash:exception  -     inc-1     2030-01-01T00:01:00.000Z (in 1m 0s)
 * ```
 */
export function formatImmunityTable(entries: ListedEntry[], now = Date.now()): string {
  if (entries.length === 0) return 'the immunity table is empty: no request signature has failed recently'
  const rows = [
    ['SIGNATURE', 'FAILURES', 'LAST FAILURE', 'CURE', 'INCIDENT', 'QUARANTINED UNTIL'],
    ...entries.map((e) => [printable(e.signature), String(e.failures), printable(e.lastFailure), printable(e.cure ?? '-'), printable(e.incidentId ?? '-'), until(e.quarantinedUntil, now)]),
  ]
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)))
  return rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ')).join('\n')
}

/**
 * Checks the shape of a `GET /immunity` answer; null when it is not one.
 *
 * @example
 * ```ts
 * parseEntries({ entries: [] }) // []
 * parseEntries('<html>')        // null
 * ```
 */
export function parseEntries(body: unknown): ListedEntry[] | null {
  const entries = (body as { entries?: unknown } | null)?.entries
  if (!Array.isArray(entries)) return null
  const ok = entries.every((e: Partial<ListedEntry>) => typeof e?.signature === 'string' && typeof e.failures === 'number' && typeof e.lastFailure === 'string' && typeof e.quarantinedUntil === 'number')
  return ok ? (entries as ListedEntry[]) : null
}

function until(quarantinedUntil: number, now: number): string {
  if (quarantinedUntil === 0) return '- (not quarantined)'
  const left = Math.max(0, Math.round((quarantinedUntil - now) / 1000))
  const m = Math.floor(left / 60)
  return `${new Date(quarantinedUntil).toISOString()} (in ${m > 0 ? `${m}m ` : ''}${left % 60}s)`
}

/**
 * Escapes control characters (as JSON would), keeping everything else as it is.
 *
 * @example
 * ```ts
 * printable('GET /a\u001b[2J #-') // 'GET /a\\u001b[2J #-'
 * ```
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
