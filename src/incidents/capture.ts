import { TextDecoder } from 'node:util'
import type { Tape } from '../tape.js'
import type { Fingerprint } from './fingerprint.js'
import type { Incident, IncidentApp, IncidentError, IncidentRequest, IncidentStep, Neighbour } from './incident.js'
import { redactBody, redactHeaders, redactJson, redactSignature, redactUrl, type RedactRules } from './redact.js'
import { firstAppFrame } from './stack-frame.js'

/** A failure as the dispatcher hands it over: raw request, raw tape. `capture` makes it an incident. */
export interface IncidentDraft {
  id: string
  /** Epoch ms of the first failure. */
  at: number
  signature: string
  verdict: Incident['verdict']
  cure: string | null
  instancesSpent: number
  durationMs: number
  kind: string
  request: { requestId: string; method: string; url: string; rawHeaders: readonly string[]; body: SharedArrayBuffer | ArrayBuffer | null; session: boolean }
  steps: IncidentStep[]
  error: IncidentError | null
  neighbours: NeighbourDraft[]
  tape: Tape | null
}

/** A request in flight beside the failing one, as the dispatcher had it. */
export interface NeighbourDraft {
  requestId: string
  method: string
  url: string
  rawHeaders: readonly string[]
  body: SharedArrayBuffer | ArrayBuffer | null
}

/** A neighbour's body is kept only this far: it is context, not the request that failed. */
const NEIGHBOUR_BODY_BYTES = 16 * 1024

/** What every incident of a runtime shares. */
export interface CaptureContext {
  app: IncidentApp
  /** Frames are named relative to it. */
  appDir: string
  environment: Fingerprint | null
  rules: RedactRules
  maxBodyBytes: number
}

/** One byte tags JSON values in the stores (see host/value-codec.ts). */
const JSON_TAG = 0x6a

/**
 * The incident for a draft: secrets redacted (headers, query parameters, also in the signature
 * and the neighbours' URLs, body fields, and the same fields in JSON values the request read
 * from the stores), the body cut at `maxBodyBytes`, the first
 * in-app frame found, the runtime's fingerprint attached.
 *
 * @example
 * ```ts
 * const incident = capture(draft, { app, appDir, environment, rules, maxBodyBytes: 65536 })
 * ```
 */
export function capture(draft: IncidentDraft, ctx: CaptureContext): Incident {
  const error = draft.error ?? draft.steps.find((s) => s.error?.stack)?.error ?? null
  const stacked = draft.steps.find((s) => s.error?.stack)?.error?.stack ?? error?.stack
  return {
    version: 2,
    id: draft.id,
    at: new Date(draft.at).toISOString(),
    signature: redactSignature(draft.signature, ctx.rules),
    request: captureRequest(draft.request, ctx),
    steps: draft.steps,
    verdict: draft.verdict,
    cure: draft.cure,
    instancesSpent: draft.instancesSpent,
    durationMs: draft.durationMs,
    kind: draft.kind,
    error,
    frame: firstAppFrame(stacked, ctx.appDir),
    neighbours: draft.neighbours.map((n) => captureNeighbour(n, ctx)),
    tape: draft.tape ? redactTape(draft.tape, ctx.rules) : null,
    app: ctx.app,
    environment: ctx.environment,
    count: 1,
    lastAt: new Date(draft.at).toISOString(),
    occurrences: [],
  }
}

function captureNeighbour(n: NeighbourDraft, ctx: CaptureContext): Neighbour {
  const request = captureRequest({ ...n, session: false }, { ...ctx, maxBodyBytes: Math.min(ctx.maxBodyBytes, NEIGHBOUR_BODY_BYTES) })
  return { requestId: n.requestId, method: n.method, url: request.url, headers: request.headers, body: request.body ?? null, ...(request.bodyEncoding ? { bodyEncoding: request.bodyEncoding } : {}) }
}

function captureRequest(request: IncidentDraft['request'], ctx: CaptureContext): IncidentRequest {
  const bodyBytes = request.body?.byteLength ?? 0
  const out: IncidentRequest = { requestId: request.requestId, method: request.method, url: redactUrl(request.url, ctx.rules), headers: redactHeaders(request.rawHeaders, ctx.rules), bodyBytes, body: null, session: request.session }
  if (!request.body || bodyBytes === 0) return out
  const kept = new Uint8Array(request.body, 0, Math.min(bodyBytes, ctx.maxBodyBytes)).slice()
  out.bodyTruncated = kept.byteLength < bodyBytes
  // A cut may split a UTF-8 sequence: up to 3 trailing bytes are given up rather than the text.
  let text = utf8(kept)
  for (let trim = 1; text === null && out.bodyTruncated && trim <= 3; trim++) text = utf8(kept.subarray(0, kept.byteLength - trim))
  if (text === null) {
    out.body = Buffer.from(kept).toString('base64')
    out.bodyEncoding = 'base64'
  } else {
    out.body = redactBody(text, headerOf(request.rawHeaders, 'content-type'), ctx.rules)
    out.bodyEncoding = 'utf8'
  }
  return out
}

/** JSON values read from the stores carry the same secrets as bodies: their secret fields are redacted too. */
function redactTape(tape: Tape, rules: RedactRules): Tape {
  const reads = tape.reads.map((read) => ({
    ...read,
    entries:
      read.entries?.map((entry) => {
        const bytes = Buffer.from(entry.value, 'base64')
        if (bytes[0] !== JSON_TAG) return entry
        try {
          const redacted = JSON.stringify(redactJson(JSON.parse(bytes.subarray(1).toString('utf8')) as unknown, rules))
          return { ...entry, value: Buffer.concat([Buffer.from([JSON_TAG]), Buffer.from(redacted)]).toString('base64') }
        } catch {
          return entry
        }
      }) ?? null,
  }))
  return { ...tape, reads }
}

function utf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return null
  }
}

function headerOf(raw: readonly string[], name: string): string | null {
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1]!
  return null
}
