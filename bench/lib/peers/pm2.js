// Peer "pm2": the app in PM2 cluster mode (one worker process per instance, `-i max` by default),
// started in the bench's private PM2 daemon (see ../pm2-daemon.js). PM2 defaults otherwise
// (autorestart on, min_uptime 1 s, max_restarts 16).
import { onCleanup } from '../cleanup.js'
import { childPids, pm2AppName } from '../resources.js'
import { waitReady, sleep } from '../wait-ready.js'

export async function startPm2Peer({ app, port, readyPath, tag, instances, heapMb, pm2, env = {} }) {
  if (!pm2) throw new Error('pm2 peer needs a PM2 daemon (createPm2Daemon())')
  const name = `${tag}-pm2-${process.pid}`
  const args = ['start', app, '--name', name, '-i', String(instances ?? 'max')]
  if (heapMb) args.push('--node-args', `--max-old-space-size=${heapMb}`)
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    unregister()
    await pm2.run(['delete', name]).catch(() => {})
  }
  const unregister = onCleanup(stop)
  try {
    // The CLI's environment becomes the app's (PM2 copies it at `start`), so `env` goes there.
    await pm2.run(args, { ...env, PORT: String(port) })
    const wanted = instances === undefined || instances === 'max' ? undefined : Number(instances)
    const deadline = Date.now() + 30_000
    let procs = []
    for (;;) {
      procs = (await pm2.list()).filter((p) => p.name === name)
      const online = procs.filter((p) => p.status === 'online').length
      if (online > 0 && online === procs.length && (wanted === undefined || online === wanted)) break
      if (Date.now() > deadline) throw new Error(`pm2 processes not online: ${JSON.stringify(procs)}`)
      await sleep(200)
    }
    await waitReady(`http://127.0.0.1:${port}${readyPath}`)
    const info = async () => {
      const ps = (await pm2.list()).filter((p) => p.name === name)
      const restarts = ps.reduce((n, p) => n + p.restarts, 0)
      return { pids: ps.map((p) => p.pid), restarts, statuses: ps.map((p) => p.status), events: pm2Events(ps, restarts) }
    }
    // The app's worker processes now, for resource sampling: children of the daemon (PM2's cluster
    // master) whose environment names this app (`pm2_env`, set by PM2 in each worker; cached per
    // pid). Read from /proc rather than `pm2 jlist`, which would start a node process per sample;
    // at the start they are the pids jlist gave (`listedPids`).
    const ours = new Map()
    const pids = () => {
      const daemon = pm2.pid()
      if (!daemon) return []
      return childPids(daemon).filter((p) => {
        if (!ours.has(p)) ours.set(p, pm2AppName(p) === name)
        return ours.get(p)
      })
    }
    return { kind: 'pm2', port, instances: procs.length, name, listedPids: procs.map((p) => p.pid), info, pids, stop }
  } catch (err) {
    await stop()
    throw new Error(`pm2 peer did not start: ${err.message}`, { cause: err })
  }
}

/** { restart: n, <status other than online>: count } for the results table. */
function pm2Events(procs, restarts) {
  const events = restarts ? { restart: restarts } : {}
  for (const p of procs) if (p.status !== 'online') events[p.status] = (events[p.status] ?? 0) + 1
  return events
}
