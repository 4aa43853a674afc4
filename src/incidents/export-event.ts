import { createHash } from 'node:crypto'
import type { Incident } from './incident.js'

/** An OTLP/JSON attribute. */
type Attribute = { key: string; value: { stringValue: string } | { intValue: string } | { boolValue: boolean } }

/**
 * An incident as an OpenTelemetry `exception` span event, in OTLP/JSON encoding (semantic
 * conventions for exceptions and HTTP): `exception.type`, `exception.message`,
 * `exception.stacktrace`, `exception.escaped` (true: the request failed), `http.request.method`,
 * `url.path`, `url.query`, `http.request.header.<name>` (redacted as in the incident), and
 * `crashless.*` for what OpenTelemetry has no name for. See README, "Exporting incidents".
 *
 * @example
 * ```ts
 * toOtelEvent(incident).attributes.find((a) => a.key === 'exception.type') // { key: 'exception.type', value: { stringValue: 'TypeError' } }
 * ```
 */
export function toOtelEvent(incident: Incident): { name: 'exception'; timeUnixNano: string; attributes: Attribute[] } {
  const error = incident.error ?? null
  const url = new URL(incident.request.url, 'http://placeholder')
  const attributes: Attribute[] = [
    str('exception.type', error?.name ?? incident.kind ?? 'unknown'),
    str('exception.message', error?.message ?? `${incident.kind ?? 'failure'} with no error object`),
    ...(error?.stack ? [str('exception.stacktrace', error.stack)] : []),
    { key: 'exception.escaped', value: { boolValue: incident.verdict === 'poison' || incident.verdict === 'failed' } },
    str('http.request.method', incident.request.method),
    str('url.path', url.pathname),
    ...(url.search ? [str('url.query', url.search.slice(1))] : []),
    ...incident.request.headers.map(([name, value]) => str(`http.request.header.${name.toLowerCase()}`, value)),
    str('crashless.incident.id', incident.id),
    str('crashless.signature', incident.signature),
    str('crashless.verdict', incident.verdict),
    str('crashless.kind', incident.kind ?? 'unknown'),
    ...(incident.cure ? [str('crashless.cure', incident.cure)] : []),
    ...(incident.frame ? [str('crashless.frame', incident.frame)] : []),
    { key: 'crashless.count', value: { intValue: String(incident.count ?? 1) } },
    { key: 'crashless.instances_spent', value: { intValue: String(incident.instancesSpent) } },
    ...(incident.environment ? [str('process.runtime.version', incident.environment.node), str('host.name', incident.environment.host)] : []),
  ]
  return { name: 'exception', timeUnixNano: `${BigInt(Date.parse(incident.at)) * 1_000_000n}`, attributes }
}

/** A Sentry stack frame. */
interface SentryFrame {
  filename: string
  function: string
  lineno?: number
  colno?: number
  in_app: boolean
}

/**
 * An incident as a Sentry event (the JSON of an `event` envelope item): `event_id` derived from
 * the incident id, `level` fatal for a poison and error otherwise, `exception.values[0]` with
 * the error's type, message and frames (oldest first, as Sentry wants; `in_app` false for
 * node_modules and Node's internals), `request` (method, url, redacted headers and body),
 * `tags` (verdict, kind, cure, signature), `fingerprint` (kind and first in-app frame, so Sentry
 * groups as crashless deduplicates), `contexts.runtime`/`os`, and the rest under `extra`.
 *
 * @example
 * ```ts
 * toSentryEvent(incident).exception.values[0].type // 'TypeError'
 * ```
 */
export function toSentryEvent(incident: Incident): Record<string, unknown> & { exception: { values: { type: string; value: string; stacktrace?: { frames: SentryFrame[] }; mechanism: { type: string; handled: boolean } }[] } } {
  const error = incident.error ?? null
  const url = new URL(incident.request.url, 'http://placeholder')
  const host = incident.request.headers.find(([name]) => name.toLowerCase() === 'host')?.[1] ?? 'localhost'
  const env = incident.environment ?? null
  const frames = error?.stack ? framesOf(error.stack) : []
  return {
    event_id: createHash('sha256').update(incident.id).digest('hex').slice(0, 32),
    timestamp: Date.parse(incident.at) / 1000,
    platform: 'node',
    level: incident.verdict === 'poison' ? 'fatal' : 'error',
    logger: 'crashless',
    transaction: `${incident.request.method} ${url.pathname}`,
    exception: {
      values: [
        {
          type: error?.name ?? incident.kind ?? 'unknown',
          value: error?.message ?? `${incident.kind ?? 'failure'} with no error object`,
          ...(frames.length > 0 ? { stacktrace: { frames } } : {}),
          mechanism: { type: 'crashless', handled: incident.verdict !== 'poison' && incident.verdict !== 'failed' },
        },
      ],
    },
    request: {
      method: incident.request.method,
      url: `http://${host}${url.pathname}`,
      query_string: url.search.slice(1),
      headers: Object.fromEntries(incident.request.headers),
      ...(incident.request.body ? { data: incident.request.body } : {}),
    },
    tags: { 'crashless.verdict': incident.verdict, 'crashless.kind': incident.kind ?? 'unknown', 'crashless.cure': incident.cure ?? 'none', 'crashless.signature': incident.signature },
    fingerprint: [incident.kind ?? 'unknown', incident.frame ?? incident.signature],
    contexts: env ? { runtime: { name: 'node', version: env.node }, os: { name: env.os, kernel_version: env.kernel }, device: { arch: env.arch, processor_count: env.cpu.count, memory_size: env.memory.totalMb * 2 ** 20 } } : {},
    server_name: env?.host,
    extra: { incidentId: incident.id, count: incident.count ?? 1, instancesSpent: incident.instancesSpent, steps: incident.steps.map((s) => `${s.environment}:${s.outcome}${s.failure ? ` (${s.failure})` : ''}`), neighbours: incident.neighbours ?? [] },
  }
}

/** Sentry's frames from a V8 stack, oldest call first. */
function framesOf(stack: string): SentryFrame[] {
  const frames: SentryFrame[] = []
  for (const line of stack.split('\n')) {
    const match = /^\s*at (?:async )?(?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/.exec(line)
    if (!match) continue
    const filename = match[2]!
    frames.push({ filename, function: match[1] ?? '?', lineno: Number(match[3]), colno: Number(match[4]), in_app: !filename.startsWith('node:') && !filename.includes('/node_modules/') })
  }
  return frames.reverse()
}

function str(key: string, value: string): Attribute {
  return { key, value: { stringValue: value } }
}
