/** One line summing a scenario's outcome, for test diagnostics. */
import type { ScenarioResult } from './harness/index.js'

export function describeVerdict(result: ScenarioResult): string {
  const v = result.verdict
  return [
    `${result.scenario}: ${v.ops} operations (${v.acknowledgedWrites} acknowledged writes), success ${(v.successRatio * 100).toFixed(3)}% (attempts ${(v.attemptSuccessRatio * 100).toFixed(3)}%)`,
    `lost ${v.lostWrites}, duplicated ${v.duplicatedEffects}, torn ${v.tornCounts}, sessions lost ${v.sessionsLost}, longest outage ${v.longestOutageMs} ms`,
    `fault at ${Math.round(result.faultAt)} ms, recovered at ${Math.round(result.recoveredAt)} ms; after: ${result.afterRecovery.ok}/${result.afterRecovery.ops} ok`,
    `failed: ${JSON.stringify(v.failures)}; clean 503s ${v.clean503}, other failed attempts ${v.otherFailedAttempts}; by node ${JSON.stringify(v.byNode)}`,
  ].join('; ')
}
