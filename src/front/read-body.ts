import type { IncomingMessage } from 'node:http'

/** The outcome of reading a request body. */
export type BodyResult = { ok: true; body: SharedArrayBuffer | null } | { ok: false; reason: 'too-large' | 'aborted' }

/**
 * Reads a request body into shared memory, so it can be handed to an instance without a copy
 * and kept for re-serving. Stops reading past `maxBytes`.
 *
 * @example
 * ```ts
 * readBody(req, 1 << 20, (result) => result.ok ? submit(result.body) : reject(result.reason))
 * ```
 */
export function readBody(req: IncomingMessage, maxBytes: number, done: (result: BodyResult) => void): void {
  const declared = req.headers['content-length']
  if (declared === undefined && req.headers['transfer-encoding'] === undefined) {
    // No body framing: RFC 9112 §6.3 says the body is empty; skip the stream machinery.
    done({ ok: true, body: null })
    return
  }
  if (declared !== undefined && Number(declared) > maxBytes) {
    done({ ok: false, reason: 'too-large' })
    return
  }
  const chunks: Buffer[] = []
  let size = 0
  let settled = false
  const settle = (result: BodyResult): void => {
    if (settled) return
    settled = true
    done(result)
  }
  req.on('data', (chunk: Buffer) => {
    if (settled) return
    size += chunk.length
    if (size > maxBytes) {
      chunks.length = 0
      settle({ ok: false, reason: 'too-large' })
      return
    }
    chunks.push(chunk)
  })
  req.on('end', () => {
    if (size === 0) return settle({ ok: true, body: null })
    const shared = new SharedArrayBuffer(size)
    const view = Buffer.from(shared)
    let offset = 0
    for (const chunk of chunks) {
      chunk.copy(view, offset)
      offset += chunk.length
    }
    settle({ ok: true, body: shared })
  })
  req.on('error', () => settle({ ok: false, reason: 'aborted' }))
  req.on('aborted', () => settle({ ok: false, reason: 'aborted' }))
}
