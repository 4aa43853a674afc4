// The campaign's goals (issue text; reported, never tuned): crashless keeps >= 99.9% of user actions
// successful under every fault kind, and at least PM2's share, and its fault-free throughput is at
// least PM2's.
export const SUCCESS_GOAL = 0.999

/** [{ goal, pass: true|false|null (not measured), detail }] */
export function checkGoals(runs, faults) {
  const out = []
  const find = (peer, fault) => runs.find((r) => r.peer === peer && r.fault === fault && !r.error)
  for (const fault of faults) {
    const r = find('crashless', fault)
    out.push({
      goal: `crashless action success >= ${SUCCESS_GOAL * 100}% under ${fault}`,
      pass: r ? r.actionSuccessRatio >= SUCCESS_GOAL : null,
      detail: r ? `${pct(r.actionSuccessRatio)} (${r.failedActions} of ${r.actions} actions failed)` : 'not measured',
    })
  }
  for (const fault of faults) {
    const r = find('crashless', fault)
    const p = find('pm2', fault)
    out.push({
      goal: `crashless action success >= PM2's under ${fault}`,
      pass: r && p ? r.actionSuccessRatio >= p.actionSuccessRatio : null,
      detail: r && p ? `${pct(r.actionSuccessRatio)} vs ${pct(p.actionSuccessRatio)}` : 'not measured',
    })
  }
  const c = find('crashless', 'none')
  const p = find('pm2', 'none')
  out.push({
    goal: 'crashless fault-free throughput >= PM2',
    pass: c && p ? c.actionsPerSec >= p.actionsPerSec : null,
    detail: c && p ? `${c.actionsPerSec} vs ${p.actionsPerSec} successful actions/s (${ratio(c.actionsPerSec, p.actionsPerSec)})` : 'not measured (needs the none runs of crashless and pm2)',
  })
  return out
}

export const verdict = (pass) => (pass === null ? 'n/a ' : pass ? 'PASS' : 'FAIL')
// Three decimals near the goal, so 99.897% does not print as a passing-looking 99.90%.
export const pct = (x) => `${(x * 100).toFixed(x >= 0.99 && x < 1 ? 3 : 2)}%`
export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '-')
