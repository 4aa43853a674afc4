/**
 * Every error crashless raises carries a stable `code`. Check errors by `code`, never by
 * `instanceof`: prototypes do not survive `postMessage` between the dispatcher and instances.
 *
 * @example
 * ```ts
 * try { await loadConfig('crashless.config.ts') }
 * catch (err) { if ((err as CrashlessError).code === 'CRASHLESS_ERR_CONFIG') console.error(err.message) }
 * ```
 */
export type CrashlessErrorCode =
  | 'CRASHLESS_ERR_CONFIG'
  | 'CRASHLESS_ERR_USAGE'
  | 'CRASHLESS_ERR_APP_LOAD'
  | 'CRASHLESS_ERR_APP_START'
  | 'CRASHLESS_ERR_INSTANCE_LOST'
  | 'CRASHLESS_ERR_DEADLINE'
  | 'CRASHLESS_ERR_OVERLOADED'
  | 'CRASHLESS_ERR_BODY_TOO_LARGE'
  | 'CRASHLESS_ERR_REQUEST_TIMEOUT'
  | 'CRASHLESS_ERR_HANDLER'
  /** Logged, not sent: an instance ended from outside as its heap neared its cap. */
  | 'CRASHLESS_ERR_HEAP_LIMIT'
  /** Logged, not sent: an instance ended from outside as its memory outside the heap passed `limits.externalMb`. */
  | 'CRASHLESS_ERR_EXTERNAL_LIMIT'
  /** Logged, not sent: an instance ended from outside as the process's RSS neared its limit (cgroup or `limits.rssMb`). */
  | 'CRASHLESS_ERR_RSS_LIMIT'
  /**
   * Logged and in incidents: an instance running as a child process (`isolation: 'process'`)
   * died of a signal it raised itself (an abort, a segfault in native code).
   */
  | 'CRASHLESS_ERR_NATIVE_CRASH'
  | 'CRASHLESS_ERR_SHUTTING_DOWN'
  /** Logged and in incidents: a runtime process died (signal, abort, its own bug) with requests in flight. */
  | 'CRASHLESS_ERR_RUNTIME_LOST'
  /** The keeper stopped: runtimes died more often than `keeper.intensity` within `keeper.periodMs`. */
  | 'CRASHLESS_ERR_RESTART_INTENSITY'
  | 'CRASHLESS_ERR_UPGRADE_REFUSED'
  | 'CRASHLESS_ERR_BAD_REQUEST'
  | 'CRASHLESS_ERR_QUARANTINED'
  | 'CRASHLESS_ERR_POISON'
  | 'CRASHLESS_ERR_STATE'
  | 'CRASHLESS_ERR_CONFLICT'
  | 'CRASHLESS_ERR_NO_REQUEST'
  | 'CRASHLESS_ERR_NO_SESSION'
  | 'CRASHLESS_ERR_IN_PROGRESS'
  | 'CRASHLESS_ERR_IDEMPOTENCY_MISMATCH'
  | 'CRASHLESS_ERR_IDEMPOTENCY_UNRECORDED'
  /** Not sent: `crashless incidents|replay|env diff` named an incident that is not in the incidents folder. */
  | 'CRASHLESS_ERR_NOT_FOUND'
  /** Not sent: `crashless replay` could not run the incident (no app recorded, the replay process failed). */
  | 'CRASHLESS_ERR_REPLAY'

/** Base class of every crashless error: a literal `name`, a stable `code`, and the `cause`. */
export class CrashlessError extends Error {
  override readonly name: string = 'CrashlessError'
  readonly code: CrashlessErrorCode

  constructor(code: CrashlessErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** Bad configuration; the message names the option path, e.g. `limits.queue`. */
export class ConfigError extends CrashlessError {
  override readonly name = 'ConfigError'
  readonly path: string

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('CRASHLESS_ERR_CONFIG', `invalid config: ${path}: ${message}`, options)
    this.path = path
  }
}

/** Bad command-line usage. */
export class UsageError extends CrashlessError {
  override readonly name = 'UsageError'

  constructor(message: string, options?: { cause?: unknown }) {
    super('CRASHLESS_ERR_USAGE', message, options)
  }
}

/** The app module could not be loaded or started; the message names the file and why. */
export class AppLoadError extends CrashlessError {
  override readonly name = 'AppLoadError'
  readonly file: string

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('CRASHLESS_ERR_APP_LOAD', `cannot load app ${file}: ${message}`, options)
    this.file = file
  }
}

/**
 * A child-process instance died of a signal it raised itself: `process.abort()`, a segfault or
 * an abort in a native addon, V8's own out-of-memory abort. Only that process dies; its loss
 * reports this error.
 */
export class NativeCrashError extends CrashlessError {
  override readonly name = 'NativeCrashError'
  readonly signal: string

  constructor(signal: string, message: string, options?: { cause?: unknown }) {
    super('CRASHLESS_ERR_NATIVE_CRASH', message, options)
    this.signal = signal
  }
}

/** True when `err` looks like a crashless error with the given code (works across threads). */
export function hasErrorCode(err: unknown, code: CrashlessErrorCode): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code
}
