import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../config/index.js'
import { IN_FLIGHT_DIR_ENV } from '../in-flight/index.js'
import { Keeper, RUNTIME_ENV } from '../keeper/index.js'
import { createLogger, type LogFormat } from '../log.js'
import { createRuntime, serveUnderKeeper } from '../runtime/index.js'
import { parseRunArgs } from './parse-run-args.js'

/**
 * `crashless run`: by default a keeper that owns the sockets and runs the service in runtime
 * processes it replaces when one dies; with `--no-keeper`, the runtime in this process. Either
 * way SIGTERM/SIGINT stop accepting, drain in-flight requests within `timeouts.drainMs` and
 * exit 0. Resolves with the process exit code.
 */
export async function runCommand(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv)
  // Started by a keeper that died before this process could even open its channel: it must
  // not go on as a crashless of its own (a keeper, binding the port), nor serve anything.
  if (process.env[RUNTIME_ENV] === '1' && !process.send) return 1
  if (process.env[RUNTIME_ENV] === '1') {
    // A keeper that dies while this runtime starts must not leave it running on its own: nothing
    // was accepted yet, so there is nothing to drain.
    const orphaned = (): never => process.exit(1)
    process.once('disconnect', orphaned)
    try {
      const config = await loadConfig({ configFile: args.configFile, cwd: process.cwd(), overrides: args.overrides })
      // Every line says which runtime wrote it: under a keeper, two or three log to one stream.
      return await serveUnderKeeper(config, createLogger(config.log.level, config.log.format).child({ pid: process.pid }), () => process.off('disconnect', orphaned))
    } catch (err) {
      // A listener on the channel keeps this process alive: the error must end it (exit 1).
      process.off('disconnect', orphaned)
      if (process.connected) process.disconnect()
      throw err
    }
  }
  if (args.keeper) return runKeeper(args.runtimeArgs, args.overrides.log?.level ?? 'info', args.overrides.log?.format ?? 'auto')
  const config = await loadConfig({ configFile: args.configFile, cwd: process.cwd(), overrides: args.overrides })
  const log = createLogger(config.log.level, config.log.format).child({ pid: process.pid })
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

async function runKeeper(runtimeArgs: string[], logLevel: string, logFormat: LogFormat): Promise<number> {
  // tmpfs when there is one: the in-flight files are written twice per request.
  const inFlightDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'crashless-keeper-'))
  process.env[IN_FLIGHT_DIR_ENV] = inFlightDir
  try {
    return await new Keeper({ args: runtimeArgs, log: createLogger(logLevel, logFormat).child({ role: 'keeper' }), inFlightDir }).run()
  } finally {
    rmSync(inFlightDir, { recursive: true, force: true })
  }
}
