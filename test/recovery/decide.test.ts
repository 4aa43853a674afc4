/**
 * The ladder's decisions as tables (STYLE.md, "The recovery core, sans-I/O"): each row is a
 * failure, the request's history and what is known, and the action expected. One array of rows
 * per decision, run in a loop. No process, no clock.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TWEAKS, type FailureKind, type Tweak } from '../../src/immunity/index.js'
import {
  actionName,
  adoptable,
  decideBlame,
  decideCrash,
  decideDeadline,
  decideEvacuee,
  decideFailedRun,
  decideLost,
  decideSuccess,
  decideVerdict,
  freshRungOpen,
  mayProbe,
  nextRung,
  screen,
  type Action,
  type Blame,
  type DeadlineFacts,
  type Evacuee,
  type FailedRun,
  type History,
  type LadderLimits,
  type ProbeRun,
  type ScreenFacts,
  type SucceededRun,
  type TrialState,
  type Verdict,
  type VerdictFacts,
} from '../../src/recovery/index.js'

const limits: LadderLimits = { maxAttempts: 3, maxCrashes: 3, budgetMs: 60_000, ladder: TWEAKS, leaseMs: 1_000 }
const history: History = { started: false, replayable: true, tweak: null, attempts: 1, innocentLosses: 0 }

const HANDLER = { do: 'answer', status: 500, code: 'CRASHLESS_ERR_HANDLER', why: 'its own failure', blame: true } as const
const LOST = { do: 'answer', status: 502, code: 'CRASHLESS_ERR_INSTANCE_LOST', blame: false } as const
const DEADLINE = { do: 'answer', status: 504, code: 'CRASHLESS_ERR_DEADLINE', why: 'deadline', blame: false } as const
const QUARANTINED = { do: 'answer', status: 500, code: 'CRASHLESS_ERR_QUARANTINED', why: 'quarantined', blame: false } as const

/** A row: why, what differs from the defaults, and the action expected. */
interface Row<Input> {
  why: string
  history?: Partial<History>
  limits?: Partial<LadderLimits>
  input: Input
  expect: Action
}

const crashRows: Row<{ mine: boolean }>[] = [
  { why: 'crash blamed on it, replayable, no trial: up the ladder (which starts with fresh)', input: { mine: true }, expect: { do: 'ladder' } },
  { why: 'not replayable: answered 500, counted against its signature', history: { replayable: false }, input: { mine: true }, expect: HANDLER },
  { why: 'ladder off: answered 500', limits: { ladder: [] }, input: { mine: true }, expect: HANDLER },
  { why: 'head sent: cut, still counted', history: { started: true }, input: { mine: true }, expect: { do: 'cut', blame: true } },
  { why: 'a crash reported for a request answered or moved meanwhile: the instance is only tainted', input: { mine: false }, expect: { do: 'suppress' } },
]

for (const row of crashRows) {
  test(`suppressed crash: ${row.why}`, () => {
    assert.deepEqual(decideCrash(row.input.mine ? { ...history, ...row.history } : null, { ...limits, ...row.limits }), row.expect)
  })
}

const deadlineRows: Row<DeadlineFacts>[] = [
  { why: 'on its instance, replayable: the ladder (a fresh instance, a longer deadline)', input: { placed: true, apartFull: false }, expect: { do: 'ladder' } },
  { why: 'on its instance, not replayable: answered 504, not counted', history: { replayable: false }, input: { placed: true, apartFull: false }, expect: DEADLINE },
  { why: 'on its instance, ladder off: answered 504', limits: { ladder: [] }, input: { placed: true, apartFull: false }, expect: DEADLINE },
  { why: 'head sent: the connection is closed', history: { started: true }, input: { placed: true, apartFull: false }, expect: { do: 'cut', blame: false } },
  { why: 'still waiting for an instance: answered 504, never laddered', input: { placed: false, apartFull: false }, expect: DEADLINE },
  { why: 'waiting for a bulkheaded route\'s capacity while some turns over: half a lease more', history: { tweak: 'bulkhead' }, input: { placed: false, apartFull: false }, expect: { do: 'extend', ms: 500 } },
  { why: 'waiting for a bulkheaded route\'s capacity, all of it taken: shed with 503', history: { tweak: 'bulkhead' }, input: { placed: false, apartFull: true }, expect: { do: 'answer', status: 503, code: 'CRASHLESS_ERR_OVERLOADED', why: 'no capacity apart', blame: false } },
  { why: 'a bulkheaded run already placed: judged like any other', history: { tweak: 'bulkhead' }, input: { placed: true, apartFull: true }, expect: { do: 'ladder' } },
]

for (const row of deadlineRows) {
  test(`deadline: ${row.why}`, () => {
    assert.deepEqual(decideDeadline(row.input, { ...history, ...row.history }, { ...limits, ...row.limits }), row.expect)
  })
}

const lostRows: Row<Blame>[] = [
  { why: 'head sent: nothing can be taken back', history: { started: true }, input: 'this request', expect: { do: 'cut', blame: false } },
  { why: 'a response under way is cut whoever is blamed', history: { started: true }, input: 'another request', expect: { do: 'cut', blame: false } },
  { why: 'blamed on it: up the ladder', input: 'this request', expect: { do: 'ladder' } },
  { why: 'blamed on it, not replayable: answered 500 and counted', history: { replayable: false }, input: 'this request', expect: HANDLER },
  { why: 'blamed on it, ladder off: answered 500 and counted', limits: { ladder: [] }, input: 'this request', expect: HANDLER },
  { why: 'nobody blamed, on a fresh rung: the rung shares its signature', history: { tweak: 'fresh' }, input: 'nobody', expect: { do: 'ladder' } },
  { why: 'lost, nobody blamed, replayable: isolated (re-run alone)', input: 'nobody', expect: { do: 'isolate' } },
  { why: 'nobody blamed, ladder off: re-served as before', limits: { ladder: [] }, input: 'nobody', expect: { do: 're-serve', innocent: false } },
  { why: 'another blamed: re-served, the loss not counted against it', input: 'another request', expect: { do: 're-serve', innocent: true } },
  { why: 'lost, another blamed, attempts used up: re-served (innocent losses do not count)', history: { attempts: 3 }, input: 'another request', expect: { do: 're-serve', innocent: true } },
  { why: 'another blamed too often: innocent losses are bounded as well', history: { attempts: 3, innocentLosses: 3 }, input: 'another request', expect: { ...LOST, why: 'attempts used up' } },
  { why: 'nobody blamed, ladder off, attempts used up', history: { attempts: 3 }, limits: { ladder: [] }, input: 'nobody', expect: { ...LOST, why: 'attempts used up' } },
  { why: 'lost, not replayable: answered INSTANCE_LOST', history: { replayable: false }, input: 'another request', expect: { ...LOST, why: 'not replayable' } },
  { why: 'not replayable, nobody blamed: cannot even be isolated', history: { replayable: false }, input: 'nobody', expect: { ...LOST, why: 'not replayable' } },
]

for (const row of lostRows) {
  test(`lost instance: ${row.why}`, () => {
    assert.deepEqual(decideLost({ ...history, ...row.history }, row.input, { ...limits, ...row.limits }), row.expect)
  })
}

const run: FailedRun = { quarantined: false, onTrial: 'none', apart: false, freshRungOpen: false, instancesLeft: Infinity }

const failedRows: Row<Partial<FailedRun>>[] = [
  { why: 'the first failure opens a trial and picks its first rung', input: {}, expect: { do: 'next-rung' } },
  { why: 'the current rung failed: the next one', input: { onTrial: 'current rung' }, expect: { do: 'next-rung' } },
  { why: 'quarantined meanwhile (a copy\'s verdict): refused', input: { quarantined: true, onTrial: 'current rung' }, expect: QUARANTINED },
  { why: 'a run of a bulkheaded route: judged at once', input: { apart: true }, expect: { do: 'quarantine', why: 'route apart' } },
  { why: 'a straggler while a fresh rung takes copies: joins it', input: { onTrial: 'earlier run', freshRungOpen: true }, expect: { do: 'join' } },
  { why: 'a straggler otherwise: waits for the verdict', input: { onTrial: 'earlier run' }, expect: { do: 'hold', for: 'trial' } },
  { why: 'a straggler whose instance makes maxCrashes: the verdict, no more runs', input: { onTrial: 'earlier run', instancesLeft: 0 }, expect: { do: 'quarantine', why: 'instances spent' } },
  { why: 'a straggler at maxCrashes while a fresh rung is open: the verdict, not another copy there', input: { onTrial: 'earlier run', instancesLeft: 0, freshRungOpen: true }, expect: { do: 'quarantine', why: 'instances spent' } },
  { why: 'a straggler with an instance left joins the fresh rung (on its instance: no more cost)', input: { onTrial: 'earlier run', instancesLeft: 1, freshRungOpen: true }, expect: { do: 'join' } },
]

for (const row of failedRows) {
  test(`failed run: ${row.why}`, () => {
    assert.deepEqual(decideFailedRun({ ...run, ...row.input }), row.expect)
  })
}

const trial: TrialState = { kind: 'crash', tried: [], spent: 1, elapsedMs: 100 }

const rungRows: Row<Partial<TrialState>>[] = [
  { why: 'crash blamed on it, no trial: rerun fresh', input: {}, expect: { do: 'rerun', tweak: 'fresh' } },
  { why: 'then alone', input: { tried: ['fresh'], spent: 2 }, expect: { do: 'rerun', tweak: 'exclusive' } },
  { why: 'stack overflow, nothing tried: rerun stack', input: { kind: 'stack' }, expect: { do: 'rerun', tweak: 'stack' } },
  { why: 'after the stack rung, nothing else is tried', input: { kind: 'stack', tried: ['stack'], spent: 1 }, expect: { do: 'quarantine', why: 'nothing left to try' } },
  { why: 'a stall is confirmed alone, under the same lease', input: { kind: 'stall' }, expect: { do: 'rerun', tweak: 'exclusive' } },
  { why: 'a stall that stalled alone too: quarantined', input: { kind: 'stall', tried: ['exclusive'], spent: 2 }, expect: { do: 'quarantine', why: 'nothing left to try' } },
  { why: 'heap exhaustion: fresh, then a larger heap', input: { kind: 'out-of-memory', tried: ['fresh'], spent: 2 }, expect: { do: 'rerun', tweak: 'heap' } },
  { why: 'a missed deadline: fresh first', input: { kind: 'deadline', spent: 0 }, expect: { do: 'rerun', tweak: 'fresh' } },
  { why: 'a missed deadline, then a fresh run that timed out too: a longer deadline', input: { kind: 'deadline', tried: ['fresh'], spent: 2 }, expect: { do: 'rerun', tweak: 'deadline' } },
  { why: 'a fresh run seen waiting on nothing: never resolves, no longer deadline is tried', input: { kind: 'deadline', tried: ['fresh'], spent: 2, neverResolves: true }, expect: { do: 'quarantine', why: 'never resolves' } },
  { why: 'crash with fresh, exclusive and reorder tried: quarantined', input: { tried: ['fresh', 'exclusive', 'reorder'], spent: 2 }, expect: { do: 'quarantine', why: 'nothing left to try' } },
  { why: 'spent = maxCrashes: quarantined, whatever is left', input: { tried: ['fresh'], spent: 3 }, expect: { do: 'quarantine', why: 'instances spent' } },
  { why: 'the budget spent: quarantined', input: { elapsedMs: 60_000 }, expect: { do: 'quarantine', why: 'budget spent' } },
  { why: 'a copy running elsewhere could spend the last instance: wait for it', input: { kind: 'out-of-memory', tried: ['fresh'], spent: 2, copiesRunning: 1 }, expect: { do: 'wait' } },
  { why: 'copies running elsewhere with instances to spare: the next rung', input: { kind: 'out-of-memory', tried: ['fresh'], spent: 1, copiesRunning: 1 }, expect: { do: 'rerun', tweak: 'heap' } },
  { why: 'spent already: quarantined, not waited for', input: { tried: ['fresh'], spent: 3, copiesRunning: 2 }, expect: { do: 'quarantine', why: 'instances spent' } },
  { why: 'the configured order is followed', input: {}, limits: { ladder: ['reorder', 'exclusive'] }, expect: { do: 'rerun', tweak: 'reorder' } },
  { why: 'a tweak left out of the config is never tried', input: { kind: 'stack' }, limits: { ladder: ['fresh', 'exclusive'] }, expect: { do: 'quarantine', why: 'nothing left to try' } },
]

for (const row of rungRows) {
  test(`next rung: ${row.why}`, () => {
    assert.deepEqual(nextRung({ ...trial, ...row.input }, { ...limits, ...row.limits }), row.expect)
  })
}

const succeeded: SucceededRun = { counted: true, rungFailed: false, othersRunning: 0, kind: 'crash', tweak: 'fresh' }

const successRows: Row<Partial<SucceededRun>>[] = [
  { why: 'the rung\'s last run succeeded: its tweak cures the signature', input: {}, expect: { do: 'cure', tweak: 'fresh' } },
  { why: 'a larger stack cured a deep recursion', input: { kind: 'stack', tweak: 'stack' }, expect: { do: 'cure', tweak: 'stack' } },
  { why: 'a stall that finished alone within its lease: cleared, nothing remembered', input: { kind: 'stall', tweak: 'exclusive' }, expect: { do: 'clear' } },
  { why: 'others of the rung still run: wait for them', input: { othersRunning: 2 }, expect: { do: 'wait' } },
  { why: 'a run of the rung failed already: no cure', input: { rungFailed: true }, expect: { do: 'wait' } },
  { why: 'not a run of the current rung: nothing to judge', input: { counted: false }, expect: { do: 'wait' } },
]

for (const row of successRows) {
  test(`success: ${row.why}`, () => {
    assert.deepEqual(decideSuccess({ ...succeeded, ...row.input }), row.expect)
  })
}

const freshRows: { why: string; rung: Parameters<typeof freshRungOpen>[0]; expect: boolean }[] = [
  { why: 'a fresh rung going takes copies', rung: { tweak: 'fresh', failed: false, running: 1 }, expect: true },
  { why: 'up to a bound, so the rung still ends', rung: { tweak: 'fresh', failed: false, running: 8 }, expect: false },
  { why: 'not once a run of it failed', rung: { tweak: 'fresh', failed: true, running: 1 }, expect: false },
  { why: 'other rungs run alone', rung: { tweak: 'exclusive', failed: false, running: 1 }, expect: false },
]

for (const row of freshRows) {
  test(`fresh rung open: ${row.why}`, () => assert.equal(freshRungOpen(row.rung), row.expect))
}

const probe: ProbeRun = { done: false, tweak: 'isolate', instance: { role: 'sacrificial', served: 1 } }

const adoptRows: { why: string; rung: 'fresh' | 'exclusive' | 'heap'; probe: ProbeRun | null; expect: boolean }[] = [
  { why: 'an exclusive rung adopts a probe alone on a sacrificial instance', rung: 'exclusive', probe, expect: true },
  { why: 'or one still waiting for its instance', rung: 'exclusive', probe: { ...probe, instance: null }, expect: true },
  { why: 'a fresh rung only one whose instance served nothing before', rung: 'fresh', probe: { ...probe, instance: { role: 'sacrificial', served: 2 } }, expect: false },
  { why: 'a fresh rung: a first run on a sacrificial instance', rung: 'fresh', probe, expect: true },
  { why: 'not a probe that finished', rung: 'exclusive', probe: { ...probe, done: true }, expect: false },
  { why: 'not a run on a serving instance', rung: 'exclusive', probe: { ...probe, instance: { role: 'serving', served: 9 } }, expect: false },
  { why: 'other rungs start their own run', rung: 'heap', probe, expect: false },
  { why: 'no probe', rung: 'exclusive', probe: null, expect: false },
]

for (const row of adoptRows) {
  test(`adoptable: ${row.why}`, () => assert.equal(adoptable(row.rung, row.probe), row.expect))
}

test('action names are what the logs carry (tests and bench/lib match on them)', () => {
  assert.equal(actionName({ do: 'ladder' }), 'recovery ladder')
  assert.equal(actionName(DEADLINE), 'answered 504')
  assert.equal(actionName({ do: 'cut', blame: false }), 'connection closed')
  assert.equal(actionName({ do: 'rerun', tweak: 'stack' }), 're-run under stack')
})

const facts: ScreenFacts = { quarantined: false, trial: 'none', suspicion: null, mayProbe: true, cure: null, routeApart: false, routeStalling: false }

const screenRows: Row<Partial<ScreenFacts>>[] = [
  { why: 'nothing known: runs as usual', input: {}, expect: { do: 'run', env: null } },
  { why: 'quarantined: refused without running', input: { quarantined: true, trial: 'judging' }, expect: QUARANTINED },
  { why: 'its signature on trial: held for the verdict', input: { trial: 'judging' }, expect: { do: 'hold', for: 'trial' } },
  { why: 'a fresh rung takes copies: it joins', input: { trial: 'fresh rung open' }, expect: { do: 'join' } },
  { why: 'suspected, no probe running: it is the probe, alone', input: { suspicion: { probing: false, probedByIt: false } }, expect: { do: 'probe', alone: true } },
  { why: 'suspected, a probe running: held', input: { suspicion: { probing: true, probedByIt: false } }, expect: { do: 'hold', for: 'suspicion' } },
  { why: 'suspected, ladder off (no probe alone): held', input: { suspicion: { probing: false, probedByIt: false }, mayProbe: false }, expect: { do: 'hold', for: 'suspicion' } },
  { why: 'the suspect itself (re-served) is not held by its own suspicion', input: { suspicion: { probing: true, probedByIt: true } }, expect: { do: 'run', env: null } },
  { why: 'a remembered cure: runs under it', input: { cure: 'heap' }, expect: { do: 'run', env: 'heap' } },
  { why: 'cured by fresh: retiring the instance applied it; runs as usual', input: { cure: 'fresh' }, expect: { do: 'run', env: null } },
  { why: 'a bulkheaded route: runs apart', input: { routeApart: true, routeStalling: true }, expect: { do: 'run', env: 'bulkhead' } },
  { why: 'a route suspected of stalling: runs apart meanwhile', input: { routeStalling: true }, expect: { do: 'run', env: 'apart' } },
]

for (const row of screenRows) {
  test(`screen: ${row.why}`, () => {
    assert.deepEqual(screen({ ...facts, ...row.input }), row.expect)
  })
}

test('screen reads its facts lazily, in order, and no further than it needs', () => {
  const read: string[] = []
  const values: Record<string, unknown> = { ...facts, trial: 'judging' }
  const spy = {} as ScreenFacts
  for (const key of Object.keys(values)) Object.defineProperty(spy, key, { get: () => (read.push(key), values[key]) })
  assert.deepEqual(screen(spy), { do: 'hold', for: 'trial' })
  assert.deepEqual(read, ['quarantined', 'trial'])
})

const probeRows: { why: string; request: { started: boolean; done: boolean }; ladder: readonly Tweak[]; expect: boolean }[] = [
  { why: 'not started, ladder on: may probe, even if not replayable', request: { started: false, done: false }, ladder: TWEAKS, expect: true },
  { why: 'ladder off: no sacrificial run', request: { started: false, done: false }, ladder: [], expect: false },
  { why: 'started: too late', request: { started: true, done: false }, ladder: TWEAKS, expect: false },
]

for (const row of probeRows) {
  test(`may probe: ${row.why}`, () => assert.equal(mayProbe(row.request, { ladder: row.ladder }), row.expect))
}

const blameRows: Row<{ kind: FailureKind; alone: boolean }>[] = [
  { why: 'a stall on a serving instance: a suspect, not a verdict (busy is not hung)', input: { kind: 'stall', alone: false }, expect: { do: 'suspect' } },
  { why: 'a stall alone on a sacrificial instance: counted', input: { kind: 'stall', alone: true }, expect: { do: 'count' } },
  { why: 'a crash anywhere: counted', input: { kind: 'crash', alone: false }, expect: { do: 'count' } },
  { why: 'an exit: counted', input: { kind: 'exit', alone: false }, expect: { do: 'count' } },
]

for (const row of blameRows) {
  test(`blame: ${row.why}`, () => assert.deepEqual(decideBlame(row.input), row.expect))
}

const verdictFacts: VerdictFacts = { waiting: 2, copyRunning: false, quarantined: false, mayProbe: true }

const verdictRows: Row<{ verdict: Verdict; facts?: Partial<VerdictFacts> }>[] = [
  { why: 'poison: every held request refused', input: { verdict: 'quarantined', facts: { quarantined: true } }, expect: QUARANTINED },
  { why: 'poison, but the quarantine already lifted: released', input: { verdict: 'quarantined' }, expect: { do: 'release' } },
  { why: 'the suspect completed: all released', input: { verdict: 'cleared' }, expect: { do: 'release' } },
  { why: 'failed, not poison yet: the next held request probes alone', input: { verdict: 'failed' }, expect: { do: 'probe', alone: true } },
  { why: 'failed, ladder off: the next probe runs where requests run', input: { verdict: 'failed', facts: { mayProbe: false } }, expect: { do: 'probe', alone: false } },
  { why: 'failed while another copy still runs: its verdict first', input: { verdict: 'failed', facts: { copyRunning: true } }, expect: { do: 'wait' } },
  { why: 'failed, nobody waiting: nothing to probe', input: { verdict: 'failed', facts: { waiting: 0 } }, expect: { do: 'wait' } },
]

for (const row of verdictRows) {
  test(`suspect's verdict: ${row.why}`, () => assert.deepEqual(decideVerdict(row.input.verdict, { ...verdictFacts, ...row.input.facts }), row.expect))
}

const evacuee: Evacuee = { running: false, started: false, replayable: true }

const evacueeRows: Row<{ request?: Partial<Evacuee>; late: boolean; runningKnown: boolean }>[] = [
  { why: 'before half a lease, started requests stay', input: { late: false, runningKnown: true }, expect: { do: 'stay' } },
  { why: 'late, another request running: moved (re-served elsewhere)', input: { late: true, runningKnown: true }, expect: { do: 're-serve', innocent: false } },
  { why: 'late, nothing running synchronously: each is isolated (one may have started the loop)', input: { late: true, runningKnown: false }, expect: { do: 'isolate' } },
  { why: 'late, nothing running, ladder off: moved', limits: { ladder: [] }, input: { late: true, runningKnown: false }, expect: { do: 're-serve', innocent: false } },
  { why: 'the running request stays (it is the suspect)', input: { request: { running: true }, late: true, runningKnown: true }, expect: { do: 'stay' } },
  { why: 'head sent: stays', input: { request: { started: true }, late: true, runningKnown: true }, expect: { do: 'stay' } },
  { why: 'not replayable: stays (it must not run twice)', input: { request: { replayable: false }, late: true, runningKnown: true }, expect: { do: 'stay' } },
]

for (const row of evacueeRows) {
  test(`evacuation: ${row.why}`, () => {
    assert.deepEqual(decideEvacuee({ ...evacuee, ...row.input.request }, row.input, { ...limits, ...row.limits }), row.expect)
  })
}
