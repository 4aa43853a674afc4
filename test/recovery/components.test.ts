/**
 * The decisions of issue 16 as tables (like decide.test.ts): bad answers (outliers.ts), the
 * restart tree (restarts.ts) and the search for a request that corrupts its instance
 * (corrupter.ts). No process, no clock.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  decideHealth,
  decideOutlier,
  decideRestart,
  isUnexplainedLoss,
  nextSearchStep,
  suspectsOf,
  type AnswerFacts,
  type AnsweredRequest,
  type HealthFacts,
  type OutlierPolicy,
  type OutlierVerdict,
  type RestartAction,
  type RestartFacts,
  type SearchStep,
  type SuspectTrial,
} from '../../src/recovery/index.js'

const policy: OutlierPolicy = { consecutive5xx: 5, minRequests: 20, ratePercent: 20, rateFactor: 5, intensity: 3 }
const calm: AnswerFacts = { consecutive: 1, total: 30, failed: 1, siblings: { total: 60, failed: 0 }, recentEjections: 0 }

test('decideOutlier: consecutive 5xx or a rate far above the siblings eject; an app failing everywhere does not', () => {
  const rows: { why: string; facts: Partial<AnswerFacts>; policy?: Partial<OutlierPolicy>; expect: OutlierVerdict }[] = [
    { why: 'one 5xx among many answers', facts: {}, expect: { do: 'stay', why: 'within bounds' } },
    { why: 'five 5xx in a row, siblings fine', facts: { consecutive: 5, failed: 5 }, expect: { do: 'eject', rule: 'consecutive' } },
    { why: 'four in a row is not five', facts: { consecutive: 4, failed: 4 }, expect: { do: 'stay', why: 'within bounds' } },
    { why: 'five in a row, no sibling to compare with: Envoy ejects too', facts: { consecutive: 5, siblings: null }, expect: { do: 'eject', rule: 'consecutive' } },
    { why: 'five in a row, siblings answer 5xx half the time: a deliberate 503', facts: { consecutive: 5, siblings: { total: 40, failed: 20 } }, expect: { do: 'stay', why: 'siblings fail too' } },
    { why: 'consecutive rule off', facts: { consecutive: 50 }, policy: { consecutive5xx: 0 }, expect: { do: 'stay', why: 'within bounds' } },
    { why: '30% of 30 answers 5xx against 2% for the siblings: rate', facts: { total: 30, failed: 9, consecutive: 1, siblings: { total: 100, failed: 2 } }, expect: { do: 'eject', rule: 'rate' } },
    { why: '30% against 10%: only three times the siblings', facts: { total: 30, failed: 9, siblings: { total: 100, failed: 10 } }, expect: { do: 'stay', why: 'within bounds' } },
    { why: '30% of 10 answers: too few to judge a rate', facts: { total: 10, failed: 3 }, expect: { do: 'stay', why: 'within bounds' } },
    { why: '10% against 0%: under ratePercent', facts: { total: 30, failed: 3 }, expect: { do: 'stay', why: 'within bounds' } },
    { why: 'a rate needs siblings', facts: { total: 30, failed: 9, siblings: null }, expect: { do: 'stay', why: 'within bounds' } },
    { why: 'siblings with no answers in the window: no rate to compare', facts: { total: 30, failed: 9, siblings: { total: 0, failed: 0 } }, expect: { do: 'stay', why: 'within bounds' } },
    { why: 'rate rule off', facts: { total: 30, failed: 9, siblings: { total: 100, failed: 0 } }, policy: { minRequests: 0 }, expect: { do: 'stay', why: 'within bounds' } },
    { why: 'an outlier, but the ejections of the period are spent: no storm', facts: { consecutive: 5, recentEjections: 3 }, expect: { do: 'stay', why: 'ejections spent' } },
    { why: 'intensity 0: never ejects', facts: { consecutive: 5 }, policy: { intensity: 0 }, expect: { do: 'stay', why: 'ejections spent' } },
  ]
  for (const row of rows) assert.deepEqual(decideOutlier({ ...calm, ...row.facts }, { ...policy, ...row.policy }), row.expect, row.why)
})

test('decideHealth: failures in a row eject while a sibling passes, within the bound', () => {
  const base: HealthFacts = { failures: 2, siblingsPassing: 1, siblings: 1, recentEjections: 0 }
  const rows: [string, Partial<HealthFacts>, ReturnType<typeof decideHealth>][] = [
    ['two failures in a row, the sibling passes', {}, { do: 'eject', rule: 'health' }],
    ['one failure', { failures: 1 }, { do: 'stay', why: 'within bounds' }],
    ['no sibling', { siblings: 0, siblingsPassing: 0 }, { do: 'eject', rule: 'health' }],
    ['every sibling fails too', { siblingsPassing: 0, siblings: 2 }, { do: 'stay', why: 'siblings fail too' }],
    ['ejections spent', { recentEjections: 3 }, { do: 'stay', why: 'ejections spent' }],
  ]
  for (const [why, facts, expect] of rows) assert.deepEqual(decideHealth({ ...base, ...facts }, { failures: 2, intensity: 3 }), expect, why)
})

test('isUnexplainedLoss: only serving instances lost with nobody to blame count', () => {
  assert.equal(isUnexplainedLoss({ reason: 'crash', culprit: null }, true), true)
  assert.equal(isUnexplainedLoss({ reason: 'lease-expired', culprit: null }, true), true)
  assert.equal(isUnexplainedLoss({ reason: 'crash', culprit: 7 }, true), false)
  assert.equal(isUnexplainedLoss({ reason: 'crash', culprit: null }, false), false)
  for (const reason of ['retired', 'start-failed', 'drain-timeout']) assert.equal(isUnexplainedLoss({ reason, culprit: null }, true), false, reason)
})

const minute = { intensity: 2, periodMs: 60_000 }
const alone: RestartFacts = { now: 10_000, component: { name: 'bids', policy: minute, failures: [10_000] }, group: null, runtime: { policy: { intensity: 1, periodMs: 60_000 }, reboots: [] } }
const grouped = (failures: { component: string; at: number }[], reboots: number[] = []): RestartFacts['group'] => ({ name: 'trade', policy: { ...minute, windowMs: 1_000 }, reboots, failures })

test('decideRestart: each level acts past the intensity of the one below (OTP), groups also when their components fail together', () => {
  const rows: { why: string; facts: Partial<RestartFacts>; expect: RestartAction }[] = [
    { why: 'a first loss: the swap is enough', facts: {}, expect: { level: 'instance' } },
    { why: 'two within the period: at the intensity, not past it', facts: { component: { ...alone.component, failures: [5_000, 10_000] } }, expect: { level: 'instance' } },
    {
      why: 'three within the period: the component is rebooted',
      facts: { component: { ...alone.component, failures: [1_000, 5_000, 10_000] } },
      expect: { level: 'component', why: 'more than 2 instances of bids lost with no request to blame within 60000 ms' },
    },
    { why: 'three, but one is older than the period', facts: { now: 70_000, component: { ...alone.component, failures: [1_000, 65_000, 70_000] } }, expect: { level: 'instance' } },
    {
      why: 'a component reboot past the runtime intensity: the keeper acts',
      facts: { component: { ...alone.component, failures: [1_000, 5_000, 10_000] }, runtime: { policy: { intensity: 1, periodMs: 60_000 }, reboots: [2_000] } },
      expect: { level: 'runtime', why: 'more than 1 reboots of components and groups within 60000 ms (recovery.runtimeIntensity); last: more than 2 instances of bids lost with no request to blame within 60000 ms' },
    },
    {
      why: 'a component in a group: its group reboots it and counts it, the runtime does not',
      facts: { component: { ...alone.component, failures: [1_000, 5_000, 10_000] }, group: grouped([{ component: 'bids', at: 10_000 }]), runtime: { policy: { intensity: 1, periodMs: 60_000 }, reboots: [2_000] } },
      expect: { level: 'component', why: 'more than 2 instances of bids lost with no request to blame within 60000 ms' },
    },
    {
      why: 'past the group intensity on its components\' reboots: the group is rebooted',
      facts: { component: { ...alone.component, failures: [1_000, 5_000, 10_000] }, group: grouped([{ component: 'bids', at: 10_000 }], [3_000, 6_000]) },
      expect: { level: 'group', why: "more than 2 reboots of group trade's components within 60000 ms; last: more than 2 instances of bids lost with no request to blame within 60000 ms" },
    },
    {
      why: 'instances of two components of a group fail within its window: rebooted together',
      facts: { group: grouped([{ component: 'items', at: 9_500 }, { component: 'bids', at: 10_000 }]) },
      expect: { level: 'group', why: 'instances of bids, items (group trade) failed together within 1000 ms' },
    },
    { why: 'two failures of one component are not a group failing together', facts: { group: grouped([{ component: 'bids', at: 9_500 }, { component: 'bids', at: 10_000 }]) }, expect: { level: 'instance' } },
    { why: 'two components, further apart than the window', facts: { group: grouped([{ component: 'items', at: 8_000 }, { component: 'bids', at: 10_000 }]) }, expect: { level: 'instance' } },
    {
      why: 'a group reboot past the runtime intensity: the keeper acts',
      facts: { group: grouped([{ component: 'items', at: 9_500 }, { component: 'bids', at: 10_000 }]), runtime: { policy: { intensity: 1, periodMs: 60_000 }, reboots: [1_000] } },
      expect: { level: 'runtime', why: 'more than 1 reboots of components and groups within 60000 ms (recovery.runtimeIntensity); last: instances of bids, items (group trade) failed together within 1000 ms' },
    },
  ]
  for (const row of rows) assert.deepEqual(decideRestart({ ...alone, ...row.facts }), row.expect, row.why)
})

const ok = (signature: string, rerunnable = true): AnsweredRequest => ({ signature, status: 200, rerunnable })
const bad = (signature: string): AnsweredRequest => ({ signature, status: 500, rerunnable: true })

test('suspectsOf: the requests answered well before the bad phase, newest first, one per signature', () => {
  const rows: { why: string; answers: AnsweredRequest[]; limit?: number; expect: number[] }[] = [
    { why: 'the request right before the 500s first', answers: [ok('a'), ok('b'), ok('p'), bad('a'), bad('a')], expect: [2, 1] },
    { why: 'the probe signature is never a suspect; duplicates once', answers: [ok('b'), ok('a'), ok('b'), ok('p'), bad('a')], expect: [3, 2] },
    { why: 'a route the corruption spares still answers 200 in the bad phase: not a suspect', answers: [ok('p'), bad('a'), ok('h'), bad('a'), bad('a')], expect: [0] },
    { why: 'an old, isolated 500 does not start the bad phase', answers: [ok('x'), bad('z'), ok('y'), ok('y2'), ok('p'), bad('a'), bad('a'), bad('a')], expect: [4, 3, 2, 0] },
    { why: 'a body that was not kept cannot be re-run', answers: [ok('b'), ok('p', false), bad('a')], expect: [0] },
    { why: 'at most limit', answers: [ok('c'), ok('b'), ok('p'), bad('a')], limit: 2, expect: [2, 1] },
    { why: 'nothing before the bad phase', answers: [bad('a'), bad('a')], expect: [] },
  ]
  for (const row of rows) assert.deepEqual(suspectsOf(row.answers, 'a', row.limit ?? 8), row.expect, row.why)
})

test('nextSearchStep: the suspect after which the probe fails is the corrupter; a probe failing first stops the search', () => {
  const innocent: SuspectTrial = { before: 'ok', suspect: 'ok', after: 'ok' }
  const rows: { why: string; suspects: number; trials: SuspectTrial[]; expect: SearchStep }[] = [
    { why: 'no suspects', suspects: 0, trials: [], expect: { do: 'give-up', why: 'no suspects' } },
    { why: 'start with the first', suspects: 2, trials: [], expect: { do: 'try', suspect: 0 } },
    { why: 'an innocent one: the next', suspects: 2, trials: [innocent], expect: { do: 'try', suspect: 1 } },
    { why: 'the probe fails after the second: it corrupts', suspects: 3, trials: [innocent, { before: 'ok', suspect: 'ok', after: 'bad' }], expect: { do: 'quarantine', suspect: 1 } },
    { why: 'the probe fails on a fresh instance: not a corruption', suspects: 3, trials: [{ before: 'bad', suspect: null, after: null }], expect: { do: 'give-up', why: 'the probe request fails on a fresh instance' } },
    { why: 'a suspect that fails itself (and ends its instance) is not the corrupter found here', suspects: 2, trials: [{ before: 'ok', suspect: 'bad', after: null }], expect: { do: 'try', suspect: 1 } },
    { why: 'all innocent', suspects: 2, trials: [innocent, innocent], expect: { do: 'give-up', why: 'no suspect corrupts a fresh instance' } },
  ]
  for (const row of rows) assert.deepEqual(nextSearchStep(row.suspects, row.trials), row.expect, row.why)
})
