/**
 * A cookie jar just big enough for the session tests: the Set-Cookie lines of an answer, and the
 * `cookie` header to send back.
 */
import type { Answer } from './harness.js'

/** Every Set-Cookie line of an answer. */
export function setCookies(answer: Answer): string[] {
  const raw = answer.headers['set-cookie']
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]
}

/** The Set-Cookie line for cookie `name`, or undefined. */
export function setCookie(answer: Answer, name: string): string | undefined {
  return setCookies(answer).find((line) => line.startsWith(`${name}=`))
}

/** `name=value` of the Set-Cookie for `name` (for a `cookie` request header); throws if absent. */
export function cookiePair(answer: Answer, name: string): string {
  const line = setCookie(answer, name)
  if (line === undefined) throw new Error(`no Set-Cookie for ${name} in ${JSON.stringify(setCookies(answer))} (status ${answer.status}: ${answer.body})`)
  return line.split(';')[0]!
}
