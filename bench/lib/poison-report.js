// The poison.js report: one table for the repeated poison (scenario A), one for the distinct-poison
// flood (scenario B), then per-row crashless log events, what the recovery ladder spent and decided
// (instances per signature, serving and sacrificial, against its own `instancesSpent`; the flood's
// bulkhead), and benign failures, so the numbers can be checked against the peer's own account.
import { resourceCell } from './resources.js'
import { formatTable } from './table.js'

const pct = (x) => `${(x * 100).toFixed(x >= 0.9995 && x < 1 ? 3 : 2)}%`
const ms = (x) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(x >= 100 ? 0 : 2))
export const fmtCounts = (counts) =>
  Object.entries(counts ?? {})
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}x${n}`)
    .join(' ')

/** Instances lost or retired in the run: crashless by role, PM2 restarts. */
function lostCell(r) {
  const c = r.crashes
  if (r.peer !== 'crashless') return c.instances === null ? '-' : `${c.instances} restarts`
  return `${c.instances} (${c.byRole.serving} srv, ${c.byRole.sacrificial} sac)`
}

/** `3 = 1+2`: instances charged to one signature = serving + sacrificial. */
const splitCell = (n, serving, sacrificial) => `${n} = ${serving}+${sacrificial}`

/** Scenario A, crashless: the signature's instances, crashless's `instancesSpent`, its verdict. */
function repeatedCells(r) {
  if (r.peer !== 'crashless' || r.fault === 'none') return ['-', '-', r.peer === 'crashless' ? '-' : 'n/a', '-']
  const c = r.crashes
  const s = c.signature
  return [splitCell(s.instances, s.serving, s.sacrificial), c.instancesSpent ?? '-', c.verdict ?? 'none', ms(c.verdictMs ?? c.cureMs)]
}

/** Scenario B, crashless: the worst signature, the largest `instancesSpent`, the bulkhead. */
function floodCells(r) {
  if (r.peer !== 'crashless') return ['-', '-', 'n/a', '-']
  const c = r.crashes
  const b = c.bulkhead
  return [
    splitCell(c.worstPerSignature, c.worstSplit.serving, c.worstSplit.sacrificial),
    c.maxInstancesSpent ?? '-',
    b ? `${b.atMs ?? '?'} (#${b.poisonsBefore})` : 'none',
    b ? `${b.after.events.serving}/${b.after.events.sacrificial}` : '-',
  ]
}

function goalCell(r) {
  return `${r.goal.pass ? 'PASS' : 'FAIL'} (>=${(r.goal.successRatio * 100).toFixed(1)}%, <=${r.goal.maxCrashesPerSignature}/sig)`
}

function errorRow(r, width) {
  return [r.fault, r.peer, 'error', ...Array(width - 4).fill('-'), r.error.split('\n')[0].slice(0, 60)]
}

/** Benign req/s as a fraction of the same peer's `none` run (benign traffic alone). */
function vsBaseline(r, results) {
  const base = results.find((b) => b.scenario === 'repeated' && b.fault === 'none' && b.peer === r.peer && !b.error)
  return base && base.benign.reqPerSec > 0 ? `${(r.benign.reqPerSec / base.benign.reqPerSec).toFixed(2)}x` : '-'
}

export function printReport(results, opts) {
  const repeated = results.filter((r) => r.scenario === 'repeated')
  const flood = results.filter((r) => r.scenario === 'flood')
  // The columns both scenarios share, in front; each adds its own after them.
  const sharedHeader = ['kind', 'peer', 'benign ok', 'success', 'windows', 'req/s', 'vs none', 'p50 ms', 'p99 ms', 'threads', 'RSS MB', 'poison', 'instances lost']
  const sharedCells = (r) => [
    r.fault,
    r.peer,
    `${r.benign.ok}/${r.benign.total}`,
    pct(r.benign.successRatio),
    r.benign.windowsServed ? pct(r.benign.windowsServed.ratio) : '-',
    r.benign.reqPerSec,
    vsBaseline(r, results),
    ms(r.benign.p50),
    ms(r.benign.p99),
    resourceCell(r.resources, 'threads'),
    resourceCell(r.resources, 'rssMb'),
    r.poison.sent,
    r.fault === 'none' ? '-' : lostCell(r),
  ]
  const table = (rows, extraHeader, extraCells) => {
    const header = [...sharedHeader, ...extraHeader, 'poison outcomes', 'goal']
    const cells = rows.map((r) => (r.error ? errorRow(r, header.length) : [...sharedCells(r), ...extraCells(r), fmtCounts(r.poison.outcomes) || '-', goalCell(r)]))
    console.log(formatTable(header, cells))
  }
  console.log(`\nwindows: share of the 100 ms windows with a successful benign response; threads, RSS MB: idle/peak/end of the peer's processes`)
  if (repeated.length) {
    console.log(`\nA. repeated poison: ${opts.duration} s per run, ${opts.concurrency} benign loops, the same poison request every ${opts.interval} ms\n`)
    table(repeated, ['per sig srv+sac', 'spent', 'verdict', 'verdict ms'], repeatedCells)
  }
  if (flood.length) {
    console.log(`\nB. distinct-poison flood: ${opts.duration} s per run, ${opts.concurrency} benign loops, every ${opts['flood-every']}th request a poison with a new signature\n`)
    table(flood, ['worst sig srv+sac', 'spent max', 'bulkhead ms (#poison)', 'after: srv/sac'], floodCells)
  }
  printDetails(results)
  const mine = results.filter((r) => r.peer === 'crashless')
  const failed = mine.filter((r) => !r.goal.pass).map((r) => `${r.scenario}/${r.fault}`)
  if (mine.length) console.log(`\ncrashless goals: ${mine.length - failed.length}/${mine.length} runs pass${failed.length ? `; failing: ${failed.join(', ')}` : ''}`)
  for (const r of mine.filter((x) => x.crashes?.quarantinedBenign?.length)) {
    console.log(`WARNING: ${r.scenario}/${r.fault}: crashless quarantined benign signature(s) ${r.crashes.quarantinedBenign.join(', ')}: benign requests were refused with 500 CRASHLESS_ERR_QUARANTINED`)
  }
}

/** The recovery ladder's side of a crashless run: what it cost per signature and how it ended. */
function ladderLine(r) {
  const c = r.crashes
  const parts = []
  if (c.unattributed.instances) parts.push(`${c.unattributed.instances} instance(s) unattributed${r.scenario === 'repeated' ? ' (charged to the poison)' : ''}`)
  if (c.viaIsolation) parts.push(`${c.viaIsolation} loss(es) charged via isolation (culprit events ${c.culprits})`)
  if (r.scenario === 'repeated') {
    const s = c.signature
    parts.unshift(`signature: ${s.instances} instance(s) = ${s.serving} serving + ${s.sacrificial} sacrificial, instancesSpent ${c.instancesSpent ?? '-'}${c.instancesSpent !== null && c.instancesSpent !== s.instances ? ' (DIFFERS from the log)' : ''}`)
    parts.push(c.verdict === 'quarantined' ? `quarantined after ${c.verdictFailures} failure(s), tried ${(c.tried ?? []).join(',') || '-'}, ladder verdictMs ${c.ladderVerdictMs}` : c.verdict ? `${c.verdict} ${c.cureMs} ms after the first poison` : `no verdict (${c.ladderSteps} ladder steps)`)
  } else {
    parts.unshift(`instances per signature ${fmtCounts(c.perSignatureHistogram) || '-'} over ${c.signaturesCrashing} signatures, worst ${c.worstSignature ?? '-'}`)
    if (c.spentMismatch) parts.push(`${c.spentMismatch} signature(s) whose instancesSpent differs from the log`)
    if (c.ladderVerdictP50Ms !== null) parts.push(`${c.quarantinedSignatures} quarantined, ladder verdictMs p50 ${c.ladderVerdictP50Ms} max ${c.ladderVerdictMaxMs}`)
    const b = c.bulkhead
    const rs = (x) => `${x.serving} srv/${x.sacrificial} sac`
    parts.push(b ? `bulkhead ${b.route} at ${b.atMs} ms after ${b.poisonsBefore} poisons; failures before ${rs(b.before.events)}, after ${rs(b.after.events)} on ${rs(b.after.instances)} instances` : 'no bulkhead')
  }
  return parts.join(' | ')
}

function printDetails(results) {
  const ok = results.filter((r) => !r.error)
  console.log('\ncrashless log events per run (instances lost/retired by reason; benign requests blamed or quarantined are misattributions)')
  for (const r of ok.filter((x) => x.peer === 'crashless')) {
    const c = r.crashes
    const routine = new Set(['listening', 'shutdown', 'stopped'])
    const events = Object.fromEntries(Object.entries(c.logEvents).filter(([e]) => !routine.has(e)))
    const extra = []
    if (Object.keys(c.blamedBenign).length) extra.push(`BENIGN BLAMED ${fmtCounts(c.blamedBenign)}`)
    if (c.quarantinedBenign.length) extra.push(`BENIGN QUARANTINED ${c.quarantinedBenign.join(',')}`)
    if (r.poison.refusedP50Ms !== null) extra.push(`refusal p50 ${r.poison.refusedP50Ms} ms`)
    console.log(`  ${r.scenario.padEnd(8)} ${r.fault.padEnd(11)} ${fmtCounts(events) || '-'} | reasons ${fmtCounts(c.reasons) || '-'}${extra.length ? ' | ' + extra.join(' | ') : ''}`)
    if (r.fault !== 'none') console.log(`  ${''.padEnd(20)} ${ladderLine(r)}`)
  }
  const pm2 = ok.filter((x) => x.peer === 'pm2')
  if (pm2.length) {
    console.log('\npm2 worker statuses at the end of each run')
    for (const r of pm2) console.log(`  ${r.scenario.padEnd(8)} ${r.fault.padEnd(11)} restarts ${r.crashes.restarts ?? '-'}, statuses ${(r.crashes.statuses ?? []).join(',') || '-'}`)
  }
  const failures = ok.filter((r) => r.benign.ok < r.benign.total)
  if (failures.length) {
    console.log('\nbenign failures by outcome')
    for (const r of failures) console.log(`  ${r.scenario.padEnd(8)} ${r.fault.padEnd(11)} ${r.peer.padEnd(9)} ${fmtCounts(r.benign.failures)}`)
  }
  const stalled = ok.filter((r) => r.client.longestStallMs > 100)
  if (stalled.length) {
    console.log('\nclient stalls > 100 ms (the bench process itself did not run; latency numbers of these runs include it):')
    for (const r of stalled) console.log(`  ${r.scenario.padEnd(8)} ${r.fault.padEnd(11)} ${r.peer.padEnd(9)} ${r.client.longestStallMs} ms`)
  }
}
