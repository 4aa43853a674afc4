import type { AddressInfo, Server, Socket } from 'node:net'
import type { ResolvedConfig } from '../config/index.js'
import { isKeeperMessage, type KeeperToRuntime, type ListenerName, type RuntimeToKeeper } from '../keeper/index.js'
import type { Logger } from '../log.js'
import { PeerReports } from './peer-reports.js'
import { startRuntime, type StartedRuntime } from './start-runtime.js'
import { VerdictRelay } from './verdict-relay.js'

/** After the keeper is gone, what a runtime gets to finish its requests before it exits anyway. */
const ORPHAN_DRAIN_MS = 1_000

/**
 * `crashless run` as a runtime started by a keeper: start everything (warm), say `ready`, then
 * wait. Promoted, it serves the sockets the keeper hands over (the listening sockets, and any
 * connection the keeper accepted itself); told to drain, it stops accepting, finishes what is
 * in flight and exits 0. It exits too when the keeper's IPC channel closes, so a dead keeper
 * leaves no orphan behind (`onStarted` is called once the runtime is up, for the caller to stop
 * watching the channel itself while it started). Resolves with the exit code.
 *
 * @example
 * ```ts
 * if (process.env[RUNTIME_ENV] === '1') process.exitCode = await serveUnderKeeper(config, log)
 * ```
 */
export async function serveUnderKeeper(config: ResolvedConfig, log: Logger, onStarted: () => void = () => {}): Promise<number> {
  const send = (message: RuntimeToKeeper): void => {
    if (process.connected) process.send!(message)
  }
  const started = await startRuntime(config, log, () => send({ type: 'reload' }), (why) => send({ type: 'escalate', why }))
  onStarted()
  // Verdicts go to the other runtimes from now on; a standby hears theirs while it stands by.
  const relay = new VerdictRelay(started.components.immunity, send, log)
  const peers = new PeerReports(send)
  let slot = 0
  // The keeper died while this runtime started: nobody will hand it a socket.
  if (!process.connected) {
    await started.close()
    return 1
  }
  let serviceAddress: AddressInfo | null = null
  return new Promise<number>((resolve) => {
    let closing: Promise<void> | null = null
    const close = (code: number, options: { drainMs?: number; handover?: boolean } = {}): Promise<void> =>
      (closing ??= (async () => {
        clearInterval(beat)
        if (options.drainMs !== undefined) config.timeouts.drainMs = Math.min(config.timeouts.drainMs, options.drainMs)
        const { drained, abandoned } = await started.close({ handover: options.handover })
        log.info({ event: 'stopped', drained, abandoned }, drained ? 'drained; bye' : `stopped with ${abandoned} request(s) still in flight`)
        // The channel alone would keep this process alive.
        if (process.connected) process.disconnect()
        resolve(code)
      })())
    const beat = setInterval(() => send({ type: 'beat' }), Math.max(50, Math.floor(config.keeper.leaseMs / 4)))
    process.on('message', (message: unknown, handle: unknown) => {
      if (!isKeeperMessage(message)) return
      handleMessage(message, handle as Server | Socket | undefined)
    })
    // Ctrl-C (SIGINT) and a closed terminal (SIGHUP) reach the whole process group: the keeper
    // decides, and tells each runtime.
    process.on('SIGINT', () => {})
    process.on('SIGTERM', () => {})
    process.on('SIGHUP', () => {})
    process.once('disconnect', () => {
      if (closing) return
      log.warn({ event: 'keeper-gone' }, 'the keeper is gone; draining and exiting')
      void close(0, { drainMs: ORPHAN_DRAIN_MS })
    })
    void started.failed.then((err) => {
      log.fatal({ event: 'gave-up', error: err.message }, 'instances keep failing to start; exiting')
      send({ type: 'gave-up', message: err.message })
      void close(1)
    })
    send({ type: 'ready', service: started.wants, admin: config.admin.enabled ? { port: config.admin.port, host: config.admin.host } : null, keeper: config.keeper, runtimes: config.runtimes, drainMs: config.timeouts.drainMs, logLevel: config.log.level })

    function handleMessage(message: KeeperToRuntime, handle: Server | Socket | undefined): void {
      switch (message.type) {
        case 'listener': {
          const listener = handle as Server | undefined
          const server = message.name === 'admin' ? started.admin?.server : started.front
          if (!listener || !server || closing) return void listener?.close()
          // listen(handle) takes the received socket over, so the HTTP server is a listening
          // one as Node knows it: its header and request timeouts are checked only then.
          // https://nodejs.org/api/net.html#serverlistenhandle-backlog-callback
          server.listen(listener, () => {
            const address = server.address() as AddressInfo
            if (message.name === 'admin') started.admin!.announce(address)
            else serviceAddress = address
          })
          return
        }
        case 'connection':
          if (!handle) return
          accept(started, message.name, handle as Socket)
          send({ type: 'connection-taken', id: message.id })
          return
        case 'promote':
          // `listening` first (every promoted runtime logs it: the line operators and tests wait
          // for); all of this runs before any request is read.
          slot = message.slot
          if (config.runtimes > 1) started.setPeers(slot, () => peers.ask())
          if (serviceAddress) started.announce(serviceAddress, { promoted: message.reason, ...(config.runtimes > 1 ? { runtime: slot } : {}) })
          else log.error({ event: 'promoted-without-socket' }, 'promoted before the service socket arrived')
          started.components.adoptRuntimeDeaths(message, (records) => {
            for (const record of records) send({ type: 'suspect-cleared', record })
          })
          // What the runtime before it learned while this one stood by (kill -9 loses the last 100 ms).
          void started.immunity?.refresh().catch((err: Error) => log.warn({ event: 'immunity-refresh-failed', error: err.message }, 'could not re-read the immunity table on promotion'))
          return
        case 'drain':
          return void close(0, { handover: message.handover })
        case 'keeper-counts':
          return started.setKeeperCounts(message.counts)
        case 'verdict':
          return relay.receive(message)
        case 'runtime-deaths':
          return started.components.adoptRuntimeDeaths(message, (records) => {
            for (const record of records) send({ type: 'suspect-cleared', record })
          })
        case 'report-request':
          return void started.report(slot).then((report) => send({ type: 'report', id: message.id, report }))
        case 'gathered':
          return peers.gathered(message)
      }
    }
  })
}

function accept(started: StartedRuntime, name: ListenerName, socket: Socket): void {
  const server = name === 'admin' ? started.admin?.server : started.front
  if (!server) return void socket.destroy()
  server.emit('connection', socket)
}
