import type { EnvDifference, Incident, IncidentSummary, ReplayResult, StoredTriage } from '../incidents/index.js'
import { formatTriage } from './format-triage.js'

/**
 * `crashless incidents ls` as a table, newest first.
 *
 * @example
 * ```ts
 * formatIncidentTable([{ id: 'inc-…', at: '2030-01-01T10:00:00.000Z', signature: 'GET /boom #-', verdict: 'poison', kind: 'crash', count: 1, frame: 'app.mjs:3:9', triage: null, triageSummary: null }])
 * ```
 */
export function formatIncidentTable(rows: readonly IncidentSummary[]): string {
  if (rows.length === 0) return 'no incidents'
  return table(['ID', 'AT', 'VERDICT', 'KIND', 'COUNT', 'FRAME', 'TRIAGE', 'SIGNATURE'], rows.map((r) => [r.id, r.at, r.verdict, r.kind, String(r.count), r.frame ?? '-', r.triage ?? '-', r.signature]))
}

/** `crashless incidents show <id>`: what a developer reads the morning after, with its kept triage when there is one. */
export function formatIncident(incident: Incident, triage: StoredTriage | null = null): string {
  const lines = [
    `incident ${incident.id}  ${incident.verdict}${incident.cure ? ` (cured by ${incident.cure})` : ''}  ${incident.kind ?? ''}`,
    `at        ${incident.at}${(incident.count ?? 1) > 1 ? `, and ${(incident.count ?? 1) - 1} identical failure(s) since, the last at ${incident.lastAt}` : ''}`,
    `signature ${incident.signature}`,
    `request   ${incident.request.method} ${incident.request.url} (${incident.request.requestId || 'no id'}, body ${incident.request.bodyBytes} bytes${incident.request.bodyTruncated ? ', cut' : ''})`,
    ...incident.request.headers.map(([name, value]) => `          ${name}: ${value}`),
  ]
  if (incident.request.body) lines.push(`body      ${incident.request.bodyEncoding === 'base64' ? '(base64) ' : ''}${incident.request.body.slice(0, 2000)}`)
  if (incident.frame) lines.push(`frame     ${incident.frame}`)
  if (incident.error) lines.push('error', ...(incident.error.stack ?? `${incident.error.name}: ${incident.error.message}`).split('\n').map((l) => `  ${l}`))
  lines.push('steps')
  for (const step of incident.steps) lines.push(`  +${step.atMs}ms ${step.environment} ${step.outcome}${step.failure ? ` (${step.failure}${step.error ? `: ${step.error.name}: ${step.error.message}` : ''})` : ''}${step.instance ? ` on ${step.instance}` : ''}`)
  if (incident.neighbours?.length) lines.push('neighbours', ...incident.neighbours.map((n) => `  ${n.method} ${n.url} (${n.requestId})`))
  const tape = incident.tape
  lines.push(tape ? `tape      ${tape.now.length} Date.now, ${tape.perf.length} performance.now, ${tape.random.length} Math.random, ${tape.uuid.length} randomUUID, ${tape.bytes.length} random bytes, ${tape.reads.length} store reads${tape.truncated ? ' (cut at its bounds: a replay draws later values live)' : ''}` : 'tape      none (no sacrificial re-run failed with one): a replay runs on live values')
  if (tape?.streamed) lines.push(`          ${streamedFrom(tape.streamed.ended)}`)
  if (incident.environment) lines.push(`env       node ${incident.environment.node} on ${incident.environment.os} ${incident.environment.arch}, ${incident.environment.host} (crashless env diff ${incident.id} here)`)
  lines.push(`instances spent ${incident.instancesSpent}, ${incident.durationMs} ms on the ladder; replay: crashless replay ${incident.id}`)
  if (triage) lines.push(`triage    kept from ${triage.triagedAt} (crashless triage ${incident.id} runs it again)`, ...formatTriage(triage).split('\n').map((l) => `  ${l}`))
  else lines.push(`triage    none kept: crashless triage ${incident.id}`)
  return lines.join('\n')
}

/** `crashless env diff` as a table, weightiest first. */
export function formatEnvDiff(differences: readonly EnvDifference[]): string {
  if (differences.length === 0) return 'no differences'
  return table(['WEIGHT', 'WHAT', 'A', 'B', 'WHY'], differences.map((d) => [String(d.weight), d.path, show(d.a), show(d.b), d.why]))
}

/** `crashless replay`'s verdict line. */
export function formatReplay(result: ReplayResult): string {
  const got = result.got.kind === 'none' ? `a ${result.got.status} response` : `${result.got.kind}${result.got.frame ? ` at ${result.got.frame}` : ''}${result.got.error ? ` (${result.got.error.name}: ${result.got.error.message})` : ''}`
  const notes = [...(result.cut ? ['cut at its bounds, later values live'] : []), ...(result.streamed ? [streamedFrom(result.streamed.ended)] : [])]
  const tape = result.taped ? `tape: ${result.playback.replayed} value(s) replayed, ${result.playback.beyond} live${notes.length > 0 ? ` (${notes.join('; ')})` : ''}` : 'no tape: live values'
  return `${result.reproduced ? 'reproduced' : 'not reproduced'}: expected ${result.expected.kind}${result.expected.frame ? ` at ${result.expected.frame}` : ''}, got ${got}; ${tape}`
}

/** Where a streamed tape came from (Tape.streamed): a re-run that ended its instance, and how. */
function streamedFrom(ended: string | null): string {
  if (ended === null) return 'streamed by a re-run as it drew it: the re-run never answered its abort, so this is what it drew until then'
  const how = ended === 'lease-expired' ? 'a stall: its lease expired' : ended === 'out-of-memory' ? 'out of memory' : ended
  return `streamed by a re-run as it drew it, before the run ended its instance (${how}): what it drew until then`
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.length > 40 ? `${text.slice(0, 39)}…` : text
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  return [head, ...rows].map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')
}
