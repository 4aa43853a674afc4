/**
 * Shared pieces of the keeper tests: config files, one-off requests, and a bounded closed-loop
 * load: `users` clients, each sending one request at
 * a time over keep-alive connections, until `stop()` (or `maxMs`). Every completion is recorded
 * with its time, so a test can find the first success after a runtime's death and count what
 * failed and how (a refused connection is ECONNREFUSED; a connection of the dead runtime is
 * reset). Not a test file itself.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A temp dir holding `crashless.config.mjs` with `config`; `cleanup` removes it. */
export function writeConfig(config: object): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'crashless-keeper-test-'))
  const file = join(dir, 'crashless.config.mjs')
  writeFileSync(file, `export default ${JSON.stringify(config, null, 2)}\n`)
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** GET on a connection of its own; rejects after 10 s. */
export function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 10_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 10 s`)))
    req.on('error', reject)
  })
}

/** One finished request. */
export interface Completion {
  at: number
  status: number | null
  /** The socket error's code when there was no response. */
  error: string | null
  body: string
}

/** A running load. */
export interface Load {
  readonly completions: Completion[]
  /** Stops sending; resolves once every client's last request finished. */
  stop(): Promise<Completion[]>
}

/** Starts `users` clients on `url`; each stops after `maxMs` at the latest. */
export function startLoad(url: string, users: number, maxMs = 30_000): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: users })
  const completions: Completion[] = []
  const deadline = performance.now() + maxMs
  let stopping = false
  const once = (): Promise<Completion> =>
    new Promise((resolve) => {
      const req = http.get(url, { agent, timeout: 10_000 }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (c: string) => (body += c))
        res.on('end', () => resolve({ at: performance.now(), status: res.statusCode ?? null, error: null, body }))
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ at: performance.now(), status: null, error: err.code ?? err.message, body }))
      })
      req.on('timeout', () => req.destroy(Object.assign(new Error('client timeout'), { code: 'TIMEOUT' })))
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ at: performance.now(), status: null, error: err.code ?? err.message, body: '' }))
    })
  const client = async (): Promise<void> => {
    while (!stopping && performance.now() < deadline) completions.push(await once())
  }
  const clients = Array.from({ length: users }, client)
  return {
    completions,
    stop: async () => {
      stopping = true
      await Promise.all(clients)
      agent.destroy()
      return completions
    },
  }
}

/** Counts of a load's outcomes. */
export function summarize(completions: readonly Completion[]): { ok: number; failed: number; refused: number; errors: Record<string, number> } {
  const errors: Record<string, number> = {}
  let ok = 0
  for (const c of completions) {
    if (c.status !== null && c.status < 400) ok++
    else {
      const key = c.error ?? String(c.status)
      errors[key] = (errors[key] ?? 0) + 1
    }
  }
  return { ok, failed: completions.length - ok, refused: errors['ECONNREFUSED'] ?? 0, errors }
}

/**
 * Resolves once `condition` holds, checking every 10 ms (for state no event announces, such as
 * a load's count of completions); rejects after `timeoutMs`.
 */
export async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
