import { NativeCrashError } from '../errors.js'

/**
 * A child-process instance whose heap had reached this share of its cap when it aborted is taken
 * to have died of V8's out-of-memory abort ("Reached heap limit"), which no message announces.
 */
const OOM_HEAP_PERCENT = 80

/**
 * What a child-process instance's death by a signal crashless did not send says: a native crash
 * (SIGSEGV, SIGBUS, SIGILL, SIGFPE), an abort (SIGABRT: `process.abort()`, a failed native
 * assertion, or V8 out of memory, told apart by the heap it last published), or a kill from
 * outside (the OOM killer's SIGKILL). The culprit is the request its lease names as running
 * then: a handler is published as running before it runs, so a synchronous crash is its own.
 *
 * @example
 * ```ts
 * signalLoss('SIGSEGV', 40, 512, 17) // { reason: 'crash', culprit: 17, error: NativeCrashError }
 * ```
 */
export function signalLoss(signal: NodeJS.Signals, heapMb: number, heapCapMb: number, running: number | null): { reason: 'crash' | 'out-of-memory'; error: NativeCrashError; culprit: number | null } {
  const oom = signal === 'SIGABRT' && heapMb * 100 >= heapCapMb * OOM_HEAP_PERCENT
  const message = oom
    ? `the instance process aborted with its heap at ${heapMb} MiB of its ${heapCapMb} MiB cap (V8 out of memory)`
    : `the instance process died of ${signal}${signal === 'SIGABRT' ? ' (an abort)' : signal === 'SIGKILL' ? ' (killed from outside: the OOM killer?)' : ' (a crash in native code)'}`
  return { reason: oom ? 'out-of-memory' : 'crash', error: new NativeCrashError(signal, message), culprit: running }
}
