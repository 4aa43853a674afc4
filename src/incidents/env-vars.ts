import { createHash } from 'node:crypto'
import { REDACTED } from './redact.js'

/** An environment variable whose name contains one of these holds a credential (`DB_PASSWORD`, `STRIPE_KEY`, `AWS_SESSION_TOKEN`). */
const SECRET_PARTS = ['token', 'secret', 'key', 'pass', 'auth', 'session', 'credential', 'private', 'cert', 'cookie', 'dsn', 'salt', 'signature']
/** Values longer than this are cut and hashed: a fingerprint stays small, and a diff still sees a change. */
const MAX_VALUE = 256

/**
 * The process's environment variables as a fingerprint keeps them: a variable whose name
 * looks like a credential (or is named in `incidents.redact.env`) is `[redacted]`, a URL's
 * user and password are redacted (`postgres://[redacted]@db/app`), and long values are cut.
 * An app's behaviour often hangs on one variable (`FEATURE_X=1`, `NODE_ENV`): `crashless env
 * diff` shows it, and `crashless triage` sets the recorded ones to see whether they make a
 * failure reproduce.
 *
 * @example
 * ```ts
 * environmentVariables({ NODE_ENV: 'production', DB_PASSWORD: 'x', DATABASE_URL: 'postgres://u:p@db/app' }, [])
 * // { DATABASE_URL: 'postgres://[redacted]@db/app', DB_PASSWORD: '[redacted]', NODE_ENV: 'production' }
 * ```
 */
export function environmentVariables(env: NodeJS.ProcessEnv, redact: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of Object.keys(env).sort()) {
    const value = env[name]
    if (value === undefined) continue
    out[name] = isSecretVariable(name, redact) ? REDACTED : scrub(value)
  }
  return out
}

/** True when a variable of this name is never written down. */
export function isSecretVariable(name: string, redact: readonly string[]): boolean {
  const lower = name.toLowerCase()
  return SECRET_PARTS.some((part) => lower.includes(part)) || redact.includes(lower)
}

function scrub(value: string): string {
  const clean = value.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, `$1${REDACTED}@`)
  if (clean.length <= MAX_VALUE) return clean
  return `${clean.slice(0, 64)}… (${clean.length} chars, sha256:${createHash('sha256').update(value).digest('hex').slice(0, 16)})`
}

/** Variables of the shell or the session, not of the app: their differences are noise. */
const NOISE = /^(PATH|HOME|PWD|OLDPWD|SHLVL|TERM|TERM_.*|COLORTERM|_|HOSTNAME|USER|LOGNAME|SHELL|MAIL|COLUMNS|LINES|LS_COLORS|INVOCATION_ID|JOURNAL_STREAM|SSH_.*|XDG_.*|TMUX.*|DISPLAY|EDITOR|VISUAL|PAGER|LESS.*|GIT_.*|VSCODE_.*|INIT_CWD|NODE|npm_.*|NPM_.*|COLOR|FORCE_COLOR|NO_COLOR|MOTD_SHOWN|DEBIAN_FRONTEND|HIST.*|PS[1-4]|OLDPWD|SUDO_.*|WSL.*|WT_.*|CONTAINER_.*|KUBERNETES_.*)$/

/** True for a variable whose difference between two machines is noise. */
export function isNoiseVariable(name: string): boolean {
  return NOISE.test(name)
}
