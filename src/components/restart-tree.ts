import type { Logger } from 'pino'
import type { ResolvedGroup } from '../config/index.js'
import { bump, tallies } from '../metrics/index.js'
import { decideRestart, type Intensity } from '../recovery/index.js'
import type { Pool } from '../supervise/index.js'

/** What the tree knows of one component. */
export interface TreeMember {
  readonly name: string
  readonly group: string | null
  readonly policy: Intensity
  readonly pool: Pool
}

/**
 * Recursive recovery (issue 16.4), carrying out decideRestart (src/recovery/restarts.ts): keeps
 * each level's restart times, and reboots what the decision names, with one log line per
 * decision above the instance (whose swap the pool has done, and `instance-lost` logged):
 * `reboot` (level `component` or `group`) or `escalate` (level `runtime`: the keeper swaps in its
 * standby; without a keeper the line is all there is). A reboot resets the counts below it, as a
 * restarted OTP supervisor starts afresh.
 *
 * @example
 * ```ts
 * const tree = new RestartTree(members, groups, { intensity: 3, periodMs: 60_000 }, log, escalate)
 * pool hook onUnexplainedLoss: (instance, loss) => tree.lost(member, loss.reason)
 * ```
 */
export class RestartTree {
  private readonly failures = new Map<string, number[]>()
  private readonly groupState = new Map<string, { group: ResolvedGroup; reboots: number[]; failures: { component: string; at: number }[] }>()
  private runtimeReboots: number[] = []

  constructor(
    private readonly members: readonly TreeMember[],
    groups: readonly ResolvedGroup[],
    private readonly runtime: Intensity,
    private readonly log: Logger,
    private readonly escalate: ((why: string) => void) | undefined,
  ) {
    for (const group of groups) this.groupState.set(group.name, { group, reboots: [], failures: [] })
  }

  /** A serving instance of `member` was lost with no request to blame (it is swapped already); `last` says how. */
  lost(member: TreeMember, last: string): void {
    const now = performance.now()
    const failures = this.remember(this.failures.get(member.name) ?? [], now, member.policy.periodMs)
    this.failures.set(member.name, failures)
    const group = member.group === null ? undefined : this.groupState.get(member.group)
    if (group) group.failures = [...group.failures.filter((f) => now - f.at < Math.max(group.group.windowMs, group.group.periodMs)), { component: member.name, at: now }]
    const action = decideRestart({
      now,
      component: { name: member.name, policy: member.policy, failures, last },
      group: group ? { name: group.group.name, policy: group.group, reboots: group.reboots, failures: group.failures } : null,
      runtime: { policy: this.runtime, reboots: this.runtimeReboots },
    })
    switch (action.level) {
      case 'instance':
        return
      case 'component': {
        const instances = this.reboot(member)
        this.failures.set(member.name, [])
        if (group) group.reboots = this.remember(group.reboots, now, group.group.periodMs)
        else this.runtimeReboots = this.remember(this.runtimeReboots, now, this.runtime.periodMs)
        bump(tallies.reboots, 'component')
        this.log.error({ event: 'reboot', scope: 'component', component: member.name, group: member.group, instances, why: action.why }, `rebooting component ${member.name}: ${action.why}`)
        return
      }
      case 'group': {
        const names = group!.group.members
        let instances = 0
        for (const name of names) {
          const inGroup = this.members.find((m) => m.name === name)
          if (inGroup) instances += this.reboot(inGroup)
          this.failures.set(name, [])
        }
        group!.reboots = []
        group!.failures = []
        this.runtimeReboots = this.remember(this.runtimeReboots, now, this.runtime.periodMs)
        bump(tallies.reboots, 'group')
        this.log.error({ event: 'reboot', scope: 'group', group: group!.group.name, components: names, instances, why: action.why }, `rebooting group ${group!.group.name} (${names.join(', ')}): ${action.why}`)
        return
      }
      case 'runtime':
        this.runtimeReboots = []
        for (const name of this.failures.keys()) this.failures.set(name, [])
        for (const state of this.groupState.values()) {
          state.reboots = []
          state.failures = []
        }
        tallies.escalations++
        this.log.error({ event: 'escalate', scope: 'runtime', component: member.name, why: action.why }, `escalating to a runtime replacement: ${action.why}`)
        this.escalate?.(action.why)
        return
      default:
        return action satisfies never
    }
  }

  /**
   * Reboots a component whole: every serving instance and spare is tainted (takes no new work,
   * finishes what it holds, exits) and fresh ones start; requests wait in its queue meanwhile.
   * Returns how many instances were replaced.
   */
  private reboot(member: TreeMember): number {
    const old = member.pool.roster().filter(({ role }) => role === 'serving' || role === 'spare')
    for (const { instance } of old) member.pool.taint(instance)
    return old.length
  }

  private remember(times: readonly number[], now: number, periodMs: number): number[] {
    return [...times.filter((at) => now - at < periodMs), now]
  }
}
