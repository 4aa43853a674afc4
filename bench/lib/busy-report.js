// busy.js tables: one row per combo and peer, the goals per combo, then the details (failures by
// status or error code, crashless's losses by reason, its quarantined signatures and other events).
import { formatTable } from './table.js'

export function printReport({ results, goals, opts, minRatio }) {
  console.log(`\n${opts.duration} s measured per run after ${opts.warmup} s of warm-up; closed loops, ${opts.timeout} s client timeout; counted by completion time\n`)
  const rows = results.map((r) =>
    r.error
      ? [r.cpuMs, r.connections, r.peer, 'error', ...Array(11).fill(undefined)]
      : [
          r.cpuMs,
          r.connections,
          r.peer,
          r.ok,
          r.reqPerSec.toFixed(1),
          r.non2xx,
          r.errors,
          r.timeouts,
          r.pending,
          fmtMs(r.p50),
          fmtMs(r.p99),
          // undefined prints as '-' and keeps the column right-aligned as a number column
          r.crashless?.instancesLost,
          r.crashless?.quarantined,
          r.restarts,
          r.clientStallMs.toFixed(0),
        ],
  )
  console.log(formatTable(['cpu ms', 'conns', 'peer', '2xx', '2xx/s', 'non-2xx', 'errors', 'timeouts', 'pending', 'p50 ms', 'p99 ms', 'lost', 'quarantined', 'restarts', 'client stall ms'], rows))

  // With --rounds: the median 2xx/s of each peer's rounds, and what went wrong summed over them.
  const byCombo = (g, peer) => {
    const runs = results.filter((r) => r.cpuMs === g.cpuMs && r.connections === g.connections && r.peer === peer && !r.error)
    if (runs.length <= 1) return runs[0]
    const rates = runs.map((r) => r.reqPerSec).sort((a, b) => a - b)
    const sum = (f) => runs.reduce((n, r) => n + f(r), 0)
    return {
      reqPerSec: rates.length % 2 === 1 ? rates[rates.length >> 1] : (rates[rates.length / 2 - 1] + rates[rates.length / 2]) / 2,
      non2xx: sum((r) => r.non2xx),
      errors: sum((r) => r.errors),
      timeouts: sum((r) => r.timeouts),
      crashless: runs[0].crashless ? { instancesLost: sum((r) => r.crashless.instancesLost), quarantined: sum((r) => r.crashless.quarantined) } : undefined,
    }
  }
  const goalRows = goals.map((g) => {
    const c = byCombo(g, 'crashless')
    const p = byCombo(g, 'pm2')
    const failedChecks = Object.entries(g.checks ?? {}).filter(([, ok]) => ok === false).map(([name]) => name)
    const verdict = g.pass === true ? 'PASS' : g.pass === false ? `FAIL (${failedChecks.join(', ')})` : `n/a (${g.detail ?? 'no PM2 to compare'})`
    return [
      g.cpuMs,
      g.connections,
      c ? c.reqPerSec.toFixed(1) : '-',
      p ? p.reqPerSec.toFixed(1) : '-',
      g.ratio === null || g.ratio === undefined ? '-' : `${g.ratio.toFixed(2)}x${g.ratios?.length > 1 ? ` (${g.ratios.map((r) => r.toFixed(2)).join(' ')})` : ''}`,
      c ? c.crashless.instancesLost : '-',
      c ? c.crashless.quarantined : '-',
      c ? c.non2xx + c.errors + c.timeouts : '-',
      verdict,
    ]
  })
  console.log(`\ngoals (crashless): 2xx/s >= ${minRatio}x PM2's (the median ratio over rounds), instances lost 0, quarantined 0, failed (non-2xx + errors + timeouts) 0\n`)
  console.log(formatTable(['cpu ms', 'conns', 'crashless 2xx/s', 'pm2 2xx/s', 'ratio', 'lost', 'quarantined', 'failed', 'goal'], goalRows))

  const details = []
  for (const r of results) {
    const at = `cpu ${r.cpuMs} ms x ${r.connections} ${r.peer}:`
    if (r.error) {
      details.push(`${at} run failed: ${r.error.split('\n')[0]}`)
      continue
    }
    if (r.non2xx) details.push(`${at} non-2xx ${fmtCounts(r.non2xxByStatus)}`)
    if (r.errors) details.push(`${at} errors ${fmtCounts(r.errorsByCode)}`)
    if (r.crashless && (r.crashless.instancesLost || r.crashless.quarantined)) {
      const sigs = r.crashless.quarantinedSignatures.length ? `, quarantined ${r.crashless.quarantinedSignatures.join(' | ')}` : ''
      details.push(`${at} instances lost by reason ${fmtCounts(r.crashless.lostReasons) || '-'}${sigs}`)
    }
    if (r.crashless && Object.keys(r.peerInfo?.events ?? {}).length) details.push(`${at} log events ${fmtCounts(r.peerInfo.events)}`)
    if (r.peerInfo?.events && r.peer === 'pm2' && Object.keys(r.peerInfo.events).length) details.push(`${at} ${fmtCounts(r.peerInfo.events)}`)
  }
  if (details.length) console.log(`\ndetails\n${details.map((d) => `  ${d}`).join('\n')}`)
  console.log(
    '\npending: requests still in flight when the run ended (aborted, counted neither way); a closed loop always has\n' +
      'about `conns` of them. Latencies are those of the 2xx answers completed in the window, queueing included.',
  )
}

const fmtMs = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-')
const fmtCounts = (counts) =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}x${n}`)
    .join(' ')
