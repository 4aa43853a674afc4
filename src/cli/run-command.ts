import { loadConfig } from '../config/index.js'
import { createLogger } from '../log.js'
import { createRuntime } from '../runtime/index.js'
import { parseRunArgs } from './parse-run-args.js'

/**
 * `crashless run`: load config, start the runtime, and stop it cleanly on SIGTERM/SIGINT
 * (stop accepting, drain in-flight requests within `timeouts.drainMs`, exit 0).
 * Resolves with the process exit code.
 */
export async function runCommand(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv)
  const config = await loadConfig({ configFile: args.configFile, cwd: process.cwd(), overrides: args.overrides })
  const log = createLogger(config.log.level)
  const runtime = await createRuntime(config, log)
  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      log.info({ event: 'shutdown', signal, drainMs: config.timeouts.drainMs }, `received ${signal}; draining`)
      void runtime.close().then(({ drained, abandoned }) => {
        log.info({ event: 'stopped', drained, abandoned }, drained ? 'drained; bye' : `stopped with ${abandoned} request(s) still in flight`)
        resolve(0)
      })
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
    void runtime.failed.then((err) => {
      log.fatal({ event: 'gave-up', error: err.message }, 'instances keep failing to start; exiting')
      void runtime.close().then(() => resolve(1))
    })
  })
}
