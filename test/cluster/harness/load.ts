/**
 * The cluster's clients: `users` closed-loop users on nginx's socket, each logged in once
 * (a session), then looping over idempotent reads (GET /read), session reads (GET /me) and keyed
 * writes (POST /write with an Idempotency-Key), bounded in time. They do what
 * docs/deployment.md asks of clients: a keyed write that failed in a way that may be transient
 * (no answer, 502, 503, 504, 409) is sent again with the same key, after Retry-After (capped) or
 * a short backoff, a bounded number of times. Reads are not retried by the client: nginx retries
 * them on another node. Every operation and every attempt is recorded for the checker.
 */
import http from 'node:http'

export type OpKind = 'read' | 'me' | 'write' | 'login'

/** One attempt of an operation: its status (0: no answer) and error code. */
export interface Attempt {
  status: number
  error: string | null
  retryAfter: string | null
  code: string | null
  node: string | null
  at: number
}

/** One operation as its client saw it. */
export interface Op {
  kind: OpKind
  user: number
  /** The write's id (its Idempotency-Key and effect key). */
  id: string | null
  startedAt: number
  endedAt: number
  ok: boolean
  attempts: Attempt[]
  /** GET /me: the user the session answered. */
  sessionUser?: string | null
}

export interface LoadOptions {
  socket: string
  users: number
  /** Stops starting operations after this long. */
  maxMs: number
  /** Attempts of a keyed write in all. Default 6. */
  writeAttempts?: number
  /** Longest wait between two attempts, whatever Retry-After says. Default 1000 ms. */
  maxBackoffMs?: number
  /** A client gives up on an answer after this long. Default 20 s. */
  timeoutMs?: number
  /** A tag for op ids and users, unique per run (keys of several runs may share a store). */
  tag: string
}

export interface Load {
  readonly ops: Op[]
  /** Stops starting operations; resolves once every user's last one ended. */
  stop(): Promise<Op[]>
  /** Resolves once `n` operations have ended. */
  untilOps(n: number, timeoutMs?: number): Promise<void>
}

interface Answer {
  status: number
  error: string | null
  body: string
  headers: http.IncomingHttpHeaders
}

function request(agent: http.Agent, socket: string, method: string, path: string, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.request({ socketPath: socket, agent, method, path, headers: { host: 'cluster', ...headers }, timeout: timeoutMs }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, error: null, body, headers: res.headers }))
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, error: err.code ?? err.message, body, headers: {} }))
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error('client timeout'), { code: 'TIMEOUT' })))
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, error: err.code ?? err.message, body: '', headers: {} }))
    req.end()
  })
}

function codeOf(body: string): string | null {
  try {
    return ((JSON.parse(body) as { error?: { code?: string } }).error?.code as string | undefined) ?? null
  } catch {
    return null
  }
}

/** Worth sending a keyed write again: it may not have happened, or may have and the answer was lost. */
const TRANSIENT = new Set([0, 409, 502, 503, 504])

/**
 * Starts the users.
 *
 * @example
 * ```ts
 * const load = startLoad({ socket: nginx.socket, users: 40, maxMs: 4_000, tag: 'run1' })
 * const ops = await load.stop()
 * ```
 */
export function startLoad(options: LoadOptions): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.users })
  const ops: Op[] = []
  const deadline = performance.now() + options.maxMs
  const timeoutMs = options.timeoutMs ?? 20_000
  const maxAttempts = options.writeAttempts ?? 6
  const maxBackoff = options.maxBackoffMs ?? 1000
  let stopping = false
  const waiters: { n: number; resolve: () => void }[] = []
  const record = (op: Op): void => {
    ops.push(op)
    for (const waiter of [...waiters]) {
      if (ops.length < waiter.n) continue
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  }

  const attemptOf = (answer: Answer): Attempt => ({
    status: answer.status,
    error: answer.error,
    retryAfter: (answer.headers['retry-after'] as string | undefined) ?? null,
    code: answer.status >= 400 ? codeOf(answer.body) : null,
    node: (answer.headers['x-node'] as string | undefined) ?? null,
    at: performance.now(),
  })

  /** A keyed POST, sent again while it fails transiently. */
  const keyed = async (path: string, key: string, cookie: string): Promise<{ attempts: Attempt[]; answer: Answer }> => {
    const attempts: Attempt[] = []
    for (let n = 1; ; n++) {
      const answer = await request(agent, options.socket, 'POST', path, { 'idempotency-key': key, ...(cookie ? { cookie } : {}) }, timeoutMs)
      attempts.push(attemptOf(answer))
      if (!TRANSIENT.has(answer.status) || n >= maxAttempts) return { attempts, answer }
      const said = Number(answer.headers['retry-after'])
      const wait = Math.min(maxBackoff, Number.isFinite(said) && said > 0 ? said * 1000 : 25 * 2 ** n)
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }

  const user = async (index: number): Promise<void> => {
    const name = `${options.tag}-u${index}`
    let cookie = ''
    let seq = 0
    const login = async (): Promise<void> => {
      const startedAt = performance.now()
      const { attempts, answer } = await keyed(`/login?user=${name}`, `${name}-login-${seq++}`, '')
      const setCookie = answer.headers['set-cookie']?.[0]
      if (setCookie) cookie = setCookie.split(';')[0]!
      record({ kind: 'login', user: index, id: null, startedAt, endedAt: performance.now(), ok: answer.status === 200, attempts })
    }
    await login()
    while (!stopping && performance.now() < deadline) {
      if (!cookie) {
        await login()
        continue
      }
      const pick = (index + seq++) % 20
      const startedAt = performance.now()
      if (pick < 9) {
        const id = `${name}-w${seq}`
        const { attempts, answer } = await keyed(`/write?client=${name}&op=${id}`, id, cookie)
        record({ kind: 'write', user: index, id, startedAt, endedAt: performance.now(), ok: answer.status === 200, attempts })
      } else if (pick < 15) {
        const answer = await request(agent, options.socket, 'GET', `/read?client=${name}`, { cookie }, timeoutMs)
        record({ kind: 'read', user: index, id: null, startedAt, endedAt: performance.now(), ok: answer.status === 200, attempts: [attemptOf(answer)] })
      } else {
        const answer = await request(agent, options.socket, 'GET', '/me', { cookie }, timeoutMs)
        let sessionUser: string | null = null
        if (answer.status === 200) sessionUser = (JSON.parse(answer.body) as { user: string | null }).user
        // A session that answers someone else, or nobody, is a lost session, not a success.
        record({ kind: 'me', user: index, id: null, startedAt, endedAt: performance.now(), ok: answer.status === 200 && sessionUser === name, attempts: [attemptOf(answer)], sessionUser })
      }
    }
  }
  const users = Array.from({ length: options.users }, (_, i) => user(i))
  return {
    ops,
    stop: async () => {
      stopping = true
      await Promise.all(users)
      agent.destroy()
      return ops
    },
    untilOps: (n, waitMs = 30_000) =>
      ops.length >= n
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`only ${ops.length} of ${n} operations within ${waitMs} ms`)), waitMs)
            waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) })
          }),
  }
}
