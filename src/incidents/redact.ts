/** What replaces a secret in an incident. */
export const REDACTED = '[redacted]'

/** Headers that are always credentials. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie'])
/** A header whose name contains one of these is taken for a credential (`x-api-key`, `x-auth-token`, `x-session-id`). */
const SECRET_HEADER_PARTS = ['token', 'secret', 'key', 'password', 'auth', 'session']
/** A body field whose name contains one of these is taken for a credential. */
const SECRET_FIELD_PARTS = ['password', 'secret', 'token']

/**
 * A query parameter whose name contains one of these is taken for a credential: a URL carries
 * the same secrets as headers (`?token=`, `?api_key=`, `?session=`) and bodies.
 */
const SECRET_PARAM_PARTS = [...new Set([...SECRET_HEADER_PARTS, ...SECRET_FIELD_PARTS])]

/** Extra names to redact (`incidents.redact`), lower-case. */
export interface RedactRules {
  headers: readonly string[]
  bodyFields: readonly string[]
}

/** True when a header of this name is never written to an incident. */
export function isSecretHeader(name: string, rules: RedactRules): boolean {
  const lower = name.toLowerCase()
  return SECRET_HEADERS.has(lower) || SECRET_HEADER_PARTS.some((part) => lower.includes(part)) || rules.headers.includes(lower)
}

/** True when a body field of this name is never written to an incident. */
export function isSecretField(name: string, rules: RedactRules): boolean {
  const lower = name.toLowerCase()
  return SECRET_FIELD_PARTS.some((part) => lower.includes(part)) || rules.bodyFields.includes(lower)
}

/** True when a query parameter of this name is never written to an incident (configured body field names count too). */
export function isSecretParam(name: string, rules: RedactRules): boolean {
  const lower = name.toLowerCase()
  return SECRET_PARAM_PARTS.some((part) => lower.includes(part)) || rules.bodyFields.includes(lower)
}

/**
 * A request URL with the values of secret query parameters replaced by `[redacted]`. Only
 * those values change: the path, the other parameters and their encoding stay byte for byte,
 * so a replay sends what the client sent but the secrets.
 *
 * @example
 * ```ts
 * redactUrl('/s?token=t1&api_key=k&q=ok', rules) // '/s?token=[redacted]&api_key=[redacted]&q=ok'
 * ```
 */
export function redactUrl(url: string, rules: RedactRules): string {
  const at = url.indexOf('?')
  if (at < 0) return url
  const hash = url.indexOf('#', at)
  const query = url.slice(at + 1, hash < 0 ? undefined : hash)
  const pairs = query.split('&').map((pair) => {
    const eq = pair.indexOf('=')
    const name = eq < 0 ? pair : pair.slice(0, eq)
    return isSecretParam(decodeName(name), rules) ? `${name}=${REDACTED}` : pair
  })
  return `${url.slice(0, at + 1)}${pairs.join('&')}${hash < 0 ? '' : url.slice(hash)}`
}

/**
 * A signature (`GET /s?token=t1&q=ok #3f2a…`, see immunity/signature.ts) with the values of its
 * secret query parameters redacted, for the incident's copy of it: the body hash after ` #` stays.
 */
export function redactSignature(signature: string, rules: RedactRules): string {
  const hash = signature.lastIndexOf(' #')
  return hash < 0 ? redactUrl(signature, rules) : `${redactUrl(signature.slice(0, hash), rules)}${signature.slice(hash)}`
}

/** A parameter name as the app reads it (`api%5Fkey` and `api+key` decoded); an undecodable name is taken as written. */
function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '))
  } catch {
    return name
  }
}

/**
 * Pairs of a raw header list, with credentials replaced by `[redacted]`.
 *
 * @example
 * ```ts
 * redactHeaders(['Cookie', 'sid=1', 'X-Api-Key', 'k', 'Accept', '*\/*']) // [['Cookie', '[redacted]'], ['X-Api-Key', '[redacted]'], ['Accept', '*\/*']]
 * ```
 */
export function redactHeaders(rawHeaders: readonly string[], rules: RedactRules = { headers: [], bodyFields: [] }): [string, string][] {
  const pairs: [string, string][] = []
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    pairs.push([name, isSecretHeader(name, rules) ? REDACTED : rawHeaders[i + 1]!])
  }
  return pairs
}

/**
 * A request body with secret fields redacted: JSON (fields at any depth) and
 * `application/x-www-form-urlencoded`; other bodies are returned as they are. `contentType` is
 * the request's, or null.
 *
 * @example
 * ```ts
 * redactBody('{"user":"ann","password":"hunter2"}', 'application/json', rules) // '{"user":"ann","password":"[redacted]"}'
 * ```
 */
export function redactBody(text: string, contentType: string | null, rules: RedactRules): string {
  const type = contentType?.split(';')[0]!.trim().toLowerCase() ?? ''
  if (type === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(text)
    for (const name of new Set(form.keys())) if (isSecretField(name, rules)) form.set(name, REDACTED)
    return form.toString()
  }
  if (type === 'application/json' || type.endsWith('+json') || (type === '' && /^\s*[[{]/.test(text))) {
    try {
      return JSON.stringify(redactJson(JSON.parse(text) as unknown, rules))
    } catch {
      // Malformed or cut JSON (a poison request often is): secret fields are found by pattern.
      return text.replace(/"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]*)/g, (whole, name: string, colon: string) => (isSecretField(name, rules) ? `"${name}"${colon}"${REDACTED}"` : whole))
    }
  }
  return text
}

/** A JSON value with the values of secret fields replaced, at any depth. */
export function redactJson(value: unknown, rules: RedactRules): unknown {
  if (Array.isArray(value)) return value.map((item) => redactJson(item, rules))
  if (value === null || typeof value !== 'object') return value
  // No prototype: a `__proto__` field (a prototype-pollution payload) stays a field, as JSON.parse made it.
  const out = Object.create(null) as Record<string, unknown>
  for (const [name, inner] of Object.entries(value)) out[name] = isSecretField(name, rules) ? REDACTED : redactJson(inner, rules)
  return out
}
