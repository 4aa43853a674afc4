import { printable } from './format-immunity.js'

/** One instance of `GET /instances`, as `crashless status` expects it. */
export interface StatusInstance {
  id: string
  role: string
  state: string
  uptimeMs: number
  served: number
  inflight: number
  recoveries: number
  heapMb: number
}

/** `GET /instances`, as `crashless status` expects it. */
export interface StatusReport {
  pid: number
  uptimeMs: number
  instances: StatusInstance[]
  starting: number
  inFlight: number
  queued: number
  recoveries: Record<string, number>
  /** Its slot, with several runtimes. */
  runtime?: number
  /** Every runtime's report, with several (see InstancesReport.runtimes). */
  runtimes?: StatusReport[]
}

/**
 * Checks the shape of a `GET /instances` answer; null when it is not one.
 *
 * @example
 * ```ts
 * parseStatus({ pid: 1, uptimeMs: 0, instances: [], starting: 0, inFlight: 0, queued: 0, recoveries: {} }) // the same object
 * parseStatus('<html>') // null
 * ```
 */
export function parseStatus(body: unknown): StatusReport | null {
  const r = body as Partial<StatusReport> | null
  if (!r || typeof r.pid !== 'number' || !Array.isArray(r.instances) || typeof r.recoveries !== 'object' || r.recoveries === null) return null
  const ok = r.instances.every((i: Partial<StatusInstance>) => typeof i?.id === 'string' && typeof i.role === 'string' && typeof i.state === 'string' && typeof i.served === 'number' && typeof i.heapMb === 'number')
  if (!ok) return null
  if (r.runtimes === undefined) return r as StatusReport
  if (!Array.isArray(r.runtimes)) return null
  const runtimes = r.runtimes.map((one) => parseStatus(one))
  return runtimes.every((one) => one !== null) ? { ...(r as StatusReport), runtimes: runtimes as StatusReport[] } : null
}

/**
 * Renders `crashless status`: one row per instance (like `pm2 ls`), then the runtime's totals.
 * Strings from the endpoint are escaped: nothing it sends can drive the operator's terminal.
 *
 * @example
 * ```ts
 * formatStatus(report)
 * // ID  ROLE     STATE  UPTIME  SERVED  IN FLIGHT  RECOVERIES  HEAP MB
 * // i1  serving  ready  5m 2s   1204    0          0           9.8
 * // runtime 4242 up 5m 3s: 0 in flight, 0 queued, 1 starting; recoveries: none
 * ```
 * With several runtimes, one such table per runtime, its last line `runtime 2 (pid 4243) up …`.
 */
export function formatStatus(report: StatusReport): string {
  // Several runtimes: one table each, under the line that names it.
  if (report.runtimes) return report.runtimes.map((one) => formatStatus({ ...one, runtimes: undefined })).join('\n\n')
  const rows = [
    ['ID', 'ROLE', 'STATE', 'UPTIME', 'SERVED', 'IN FLIGHT', 'RECOVERIES', 'HEAP MB'],
    ...report.instances.map((i) => [printable(i.id), printable(i.role), printable(i.state), duration(i.uptimeMs), String(i.served), String(i.inflight), String(i.recoveries), i.heapMb.toFixed(1)]),
  ]
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)))
  const table = rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ')).join('\n')
  const happened = Object.entries(report.recoveries).filter(([, n]) => n > 0).map(([name, n]) => `${printable(name)} ${n}`)
  const name = report.runtime === undefined ? String(report.pid) : `${report.runtime} (pid ${report.pid})`
  const summary = `runtime ${name} up ${duration(report.uptimeMs)}: ${report.inFlight} in flight, ${report.queued} queued, ${report.starting} starting; recoveries: ${happened.length > 0 ? happened.join(', ') : 'none'}`
  return `${table}\n${summary}`
}

/** `3h 4m`, `5m 2s`, `12s`: two units at most, for a column. */
function duration(ms: number): string {
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${s % 60}s`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h}h ${m % 60}m`
  return `${Math.floor(h / 24)}d ${h % 24}h`
}
