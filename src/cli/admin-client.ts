/** A failed call to the admin endpoint, with a message meant for the person at the terminal. */
export class AdminCallError extends Error {
  override readonly name = 'AdminCallError'
}

/** Where the admin endpoint is and how to authenticate to it. */
export interface AdminTarget {
  /** Base URL, e.g. `http://127.0.0.1:9300`. */
  url: string
  token: string | undefined
}

/** What answered: the status and the parsed JSON body. */
export interface AdminAnswer {
  status: number
  body: unknown
}

/**
 * Calls the admin endpoint of a running crashless and returns its JSON answer. Network
 * failures, a refused token and non-JSON answers become an {@link AdminCallError} that says
 * what to do; other statuses (404 …) are returned for the caller to explain.
 *
 * @example
 * ```ts
 * const { body } = await callAdmin({ url: 'http://127.0.0.1:9300', token: undefined }, 'GET', '/immunity')
 * ```
 */
export async function callAdmin(target: AdminTarget, method: 'GET' | 'DELETE' | 'POST', path: string, timeoutMs = 5_000): Promise<AdminAnswer> {
  const url = target.url.replace(/\/+$/, '') + path
  let res: Response
  try {
    res = await fetch(url, {
      method,
      headers: target.token === undefined ? {} : { authorization: `Bearer ${target.token}` },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    })
  } catch (err) {
    throw new AdminCallError(
      `cannot reach the crashless admin endpoint at ${target.url} (${reason(err)}). Is crashless running? ` +
        'Its admin endpoint listens on 127.0.0.1:9300 unless the config says otherwise (admin.enabled, admin.host, admin.port); ' +
        'pass --admin <url> to reach another address.',
    )
  }
  const text = await res.text()
  if (res.status === 401) throw new AdminCallError(`bad or missing token for ${target.url}: pass --token <token> or set CRASHLESS_ADMIN_TOKEN (the admin.token of the running crashless)`)
  if (res.status === 403) throw new AdminCallError(`the admin endpoint at ${target.url} refused the request: ${errorMessage(text)}`)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new AdminCallError(`${target.url} answered ${res.status} with something other than JSON: is it a crashless admin endpoint?`)
  }
  if (res.status >= 500) throw new AdminCallError(`the admin endpoint at ${target.url} failed (${res.status}): ${errorMessage(text)}`)
  return { status: res.status, body }
}

function reason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  if ((err as Error).name === 'TimeoutError') return 'no answer in time'
  return cause?.code ?? cause?.message ?? (err as Error).message
}

function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } }
    if (typeof parsed.error?.message === 'string') return parsed.error.message
  } catch {
    // Not JSON: show the start of it below.
  }
  return text.slice(0, 200)
}
