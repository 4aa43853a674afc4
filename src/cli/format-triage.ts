import type { StoredTriage, TriageReport } from '../incidents/index.js'

/**
 * `crashless triage`'s report for a human: the class and why, how sure, the cure the ladder
 * found, the minimised request, what the checks found, and where the regression test is.
 *
 * @example
 * ```ts
 * process.stdout.write(`${formatTriage(report)}\n`)
 * ```
 */
export function formatTriage(report: Omit<TriageReport, 'setup'> | StoredTriage): string {
  const lines = [
    `${report.class}: ${report.why}`,
    `confidence  ${report.agreeing} of ${report.runs} runs agreed`,
    `failure     ${report.kind}${report.frame ? ` at ${report.frame}` : ''}`,
    `cure        ${report.cure ?? 'none found by the recovery ladder'}`,
  ]
  if (report.minimized) {
    const r = report.minimized.request
    lines.push(`minimised   ${r.method} ${r.url}${r.body ? ` ${r.body.slice(0, 200)}` : ''} (removed ${report.minimized.removed.join(', ') || 'nothing'}; ${report.minimized.tests} replays)`)
  }
  if (report.environmentTweaks) lines.push(`environment ${report.environmentTweaks.map((t) => `${t.variable}=${t.value ?? '(unset)'}`).join(' ')}`)
  else if (report.environment.length > 0) lines.push(`environment differs: ${report.environment.slice(0, 4).map((d) => d.path).join(', ')} (crashless env diff ${report.id} here)`)
  for (const finding of report.findings) lines.push(`check       ${finding.check}: ${finding.summary}`)
  lines.push('settings', ...report.settings.map((s) => `  ${s.agreeing}/${s.runs}  ${s.name}`))
  lines.push(report.regressionTest ? `regression test written: ${report.regressionTest}` : 'no regression test (nothing reproduced)')
  return lines.join('\n')
}
