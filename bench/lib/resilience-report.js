// resilience.js tables (one per case), failure outcomes, the peers' side of each event, and goals.
import { fmtCounts } from './poison-report.js'
import { formatTable } from './table.js'

// crashless log lines every runtime start writes: left out of the event details.
const ROUTINE = new Set(['state-open', 'immunity-loaded', 'immunity-refreshed'])

const TITLES = {
  kill: (o) => `kill -9 at ${+(o['kill-at'] * o.duration).toFixed(2)} s: crashless's active runtime (the keeper stays) / one PM2 worker`,
  reload: (o) => `reload at ${+(o['reload-at'] * o.duration).toFixed(2)} s: SIGHUP to crashless's keeper / pm2 reload <app>`,
}

export function printReport(results, { opts, goals }) {
  console.log(`\n${opts.duration} s per run, ${opts.concurrency} keep-alive closed loops of GET /work?ms=${opts['work-ms']}, ${opts.instances} instances per peer`)
  console.log(
    'windows: share of the 100 ms windows with a success; silence: longest time without one; to other / to new: ms from the event to the first\n' +
      'success from another process than the killed one / from the process that took over (crashless: promoted or reloaded runtime; PM2: a\n' +
      `worker pid not serving before); promoted: ms from the kill to crashless's runtime-promoted line; cost: ms of full service lost in the ${opts['cost-window']} s after the event vs the ${opts['cost-window']} s before; max lat: slowest success in that window`,
  )
  for (const caseName of ['kill', 'reload']) {
    const rows = results.filter((r) => r.case === caseName)
    if (rows.length) printCase(caseName, rows, opts)
  }
  const ok = results.filter((r) => !r.error)
  if (ok.some((r) => r.longestSilence.clientStalledMs > r.longestSilence.ms / 2)) {
    console.log('\n* more than half of that silence the bench client itself was stalled: the machine is busy; the number says little about the peer.')
  }
  console.log('\ngoals (crashless, issue 10.2 and 10.5)')
  for (const r of results.filter((x) => x.peer === 'crashless')) {
    if (r.error) {
      console.log(`  ${r.case.padEnd(6)} FAIL (run failed)`)
      continue
    }
    const c = r.goal.checks
    const detail =
      r.case === 'kill'
        ? `keeper alive ${yes(c.keeperAlive)}, refused ${r.refused} (<= ${goals.refused}) ${yes(c.refused)}, first success from the promoted runtime ${ms(r.firstNewMs)} ms (<= ${goals.firstSuccessMs}) ${yes(c.firstSuccess)}, failed ${r.failed} (<= ${opts.concurrency} connections) ${yes(c.failedAtMostConnections)}`
        : `failed ${r.failed} (<= ${goals.reloadFailed}) ${yes(c.failed)}, reloaded ${yes(c.reloaded)}`
    console.log(`  ${r.case.padEnd(6)} ${r.goal.pass ? 'PASS' : 'FAIL'}: ${detail}`)
  }
}

function printCase(caseName, rows, opts) {
  const kill = caseName === 'kill'
  const header = kill
    ? ['peer', 'ok/total', 'success', 'failed', 'refused', 'windows', 'silence ms', 'to other ms', 'to new ms', 'promoted ms', 'cost ms', 'max lat ms', 'client stall', 'goal']
    : ['peer', 'ok/total', 'success', 'failed', 'refused', 'windows', 'silence ms', 'to new ms', 'reload done ms', 'cost ms', 'max lat ms', 'client stall', 'goal']
  const table = rows.map((r) => {
    if (r.error) return [r.peer, 'error', ...Array(header.length - 3).fill('-'), r.error.split('\n')[0].slice(0, 70)]
    const common = [r.peer, `${r.ok}/${r.requests}`, pct(r.successRatio), r.failed, r.refused, pct(r.windowsServed.ratio), silenceCell(r)]
    const tail = [ms(r.costMs), ms(r.maxLatencyAfterMs), ms(r.client.longestStallMs), r.goal ? (r.goal.pass ? 'PASS' : 'FAIL') : '-']
    if (kill) return [...common, ms(r.firstOtherMs), ms(r.firstNewMs), r.peer === 'crashless' ? ms(r.peerInfo.promotedAtMs) : '-', ...tail]
    return [...common, ms(r.firstNewMs), ms(reloadDoneMs(r)), ...tail]
  })
  console.log(`\n${TITLES[caseName](opts)}\n`)
  console.log(formatTable(header, table))
  for (const r of rows.filter((x) => !x.error)) {
    const served = Object.entries(r.pidsServed).map(([pid, n]) => `${pid}x${n}`).join(' ')
    console.log(`  ${r.peer.padEnd(9)} failed: ${fmtCounts(r.failures) || 'none'}; ${eventLine(r)}; answered by pid ${served}`)
  }
}

/** What the peer did: which process died or was replaced, and which took over. */
function eventLine(r) {
  const p = r.peerInfo
  if (r.peer === 'crashless') {
    const events = fmtCounts(Object.fromEntries(Object.entries(p.events ?? {}).filter(([e]) => !ROUTINE.has(e))))
    if (r.case === 'kill') {
      return `runtime ${r.event.killedPid} killed, keeper saw it die +${ms(p.diedAtMs)} ms (${p.cause ?? '?'}), ${p.promotedPid ?? '?'} promoted +${ms(p.promotedAtMs)} ms (${ms(p.promotionMs)} ms after the death), new standby +${ms(p.newStandbyAtMs)} ms, keeper ${p.alive ? 'alive' : 'DEAD'}${p.gaveUp ? ' (gave up)' : ''}; log ${events}`
    }
    return `runtime ${r.event.pidsBefore.join(',')} -> ${p.reloadedPid ?? '?'} reloaded +${ms(p.reloadedAtMs)} ms${p.failure ? ` (${p.failure})` : ''}; log ${events}`
  }
  const what = r.case === 'kill' ? `worker ${r.event.killedPid} killed` : `workers ${r.event.pidsBefore.join(',')} reloaded${r.event.error ? ` (${r.event.error})` : ''}`
  return `${what}, workers after ${(p.pidsAfter ?? []).join(',') || '?'}, restarts ${p.restarts ?? '?'}, statuses ${(p.statuses ?? []).join(',') || '?'}`
}

/** ms from the event to the reload being done: crashless's `reloaded` line, `pm2 reload` returning. */
function reloadDoneMs(r) {
  if (r.peer === 'crashless') return r.peerInfo.reloadedAtMs
  return r.event.doneAtMs === null ? null : r.event.doneAtMs - r.event.atMs
}

const silenceCell = (r) => r.longestSilence.ms.toFixed(1) + (r.longestSilence.clientStalledMs > r.longestSilence.ms / 2 ? '*' : '')
const pct = (v) => `${(v * 100).toFixed(v >= 0.9995 && v < 1 ? 3 : 2)}%`
const ms = (v) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(v >= 100 ? 0 : 1))
const yes = (b) => (b ? 'ok' : 'NO')
