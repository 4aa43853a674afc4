/**
 * The ladder's decisions as tables: each row is a failure, the request's history and what is
 * known, and the action expected. No process, no clock.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TWEAKS } from '../../src/immunity/index.js'
import { decideLost, nextRung, type Blame, type LadderLimits, type LostAction, type LostRequest, type RungAction, type TrialState } from '../../src/recovery/index.js'

const limits: LadderLimits = { maxAttempts: 3, maxCrashes: 3, budgetMs: 60_000, ladder: TWEAKS }
const request: LostRequest = { started: false, replayable: true, freshRung: false, attempts: 1, innocentLosses: 0 }

const lostRows: { why: string; request?: Partial<LostRequest>; blame: Blame; limits?: Partial<LadderLimits>; expect: LostAction }[] = [
  { why: 'its head went out: nothing can be taken back', request: { started: true }, blame: 'this request', expect: { do: 'cut' } },
  { why: 'a response under way is cut whoever is blamed', request: { started: true }, blame: 'another request', expect: { do: 'cut' } },
  { why: 'blamed on it: up the ladder', blame: 'this request', expect: { do: 'blame' } },
  { why: 'blamed on it, not replayable: still its failure (answered and counted)', request: { replayable: false }, blame: 'this request', expect: { do: 'blame' } },
  { why: 'nobody blamed, on a fresh rung: the rung shares its signature', request: { freshRung: true }, blame: 'nobody', expect: { do: 'blame' } },
  { why: 'nobody blamed, replayable: re-run alone', blame: 'nobody', expect: { do: 'isolate' } },
  { why: 'nobody blamed, ladder off: re-served as before', blame: 'nobody', limits: { ladder: [] }, expect: { do: 're-serve', innocent: false } },
  { why: 'another blamed: re-served, the loss not counted against it', blame: 'another request', expect: { do: 're-serve', innocent: true } },
  { why: 'another blamed, attempts used up: innocent losses do not count', request: { attempts: 3 }, blame: 'another request', expect: { do: 're-serve', innocent: true } },
  { why: 'another blamed too often: innocent losses are bounded as well', request: { attempts: 3, innocentLosses: 3 }, blame: 'another request', expect: { do: 'answer', code: 'CRASHLESS_ERR_INSTANCE_LOST', why: 'attempts used up' } },
  { why: 'nobody blamed, ladder off, attempts used up', request: { attempts: 3 }, blame: 'nobody', limits: { ladder: [] }, expect: { do: 'answer', code: 'CRASHLESS_ERR_INSTANCE_LOST', why: 'attempts used up' } },
  { why: 'not replayable, another blamed', request: { replayable: false }, blame: 'another request', expect: { do: 'answer', code: 'CRASHLESS_ERR_INSTANCE_LOST', why: 'not replayable' } },
  { why: 'not replayable, nobody blamed: cannot even be isolated', request: { replayable: false }, blame: 'nobody', expect: { do: 'answer', code: 'CRASHLESS_ERR_INSTANCE_LOST', why: 'not replayable' } },
]

for (const row of lostRows) {
  test(`lost instance: ${row.why}`, () => {
    assert.deepEqual(decideLost({ ...request, ...row.request }, row.blame, { ...limits, ...row.limits }), row.expect)
  })
}

const trial: TrialState = { kind: 'crash', tried: [], spent: 1, elapsedMs: 100 }

const rungRows: { why: string; trial: Partial<TrialState>; limits?: Partial<LadderLimits>; expect: RungAction }[] = [
  { why: 'a crash first tries a fresh instance', trial: {}, expect: { do: 'rerun', tweak: 'fresh' } },
  { why: 'then alone', trial: { tried: ['fresh'], spent: 2 }, expect: { do: 'rerun', tweak: 'exclusive' } },
  { why: 'a stack overflow tries a larger stack, nothing else', trial: { kind: 'stack' }, expect: { do: 'rerun', tweak: 'stack' } },
  { why: 'after the stack rung, nothing is left', trial: { kind: 'stack', tried: ['stack'], spent: 1 }, expect: { do: 'quarantine', why: 'nothing left to try' } },
  { why: 'a stall is confirmed alone, under the same lease', trial: { kind: 'stall' }, expect: { do: 'rerun', tweak: 'exclusive' } },
  { why: 'a stall that stalled alone too: quarantined', trial: { kind: 'stall', tried: ['exclusive'], spent: 2 }, expect: { do: 'quarantine', why: 'nothing left to try' } },
  { why: 'heap exhaustion: fresh, then a larger heap', trial: { kind: 'out-of-memory', tried: ['fresh'], spent: 2 }, expect: { do: 'rerun', tweak: 'heap' } },
  { why: 'a missed deadline: fresh first', trial: { kind: 'deadline', spent: 0 }, expect: { do: 'rerun', tweak: 'fresh' } },
  { why: 'crash after fresh, exclusive and reorder: quarantined', trial: { tried: ['fresh', 'exclusive', 'reorder'], spent: 2 }, expect: { do: 'quarantine', why: 'nothing left to try' } },
  { why: 'maxCrashes instances spent: quarantined, whatever is left', trial: { tried: ['fresh'], spent: 3 }, expect: { do: 'quarantine', why: 'instances spent' } },
  { why: 'the budget spent: quarantined', trial: { elapsedMs: 60_000 }, expect: { do: 'quarantine', why: 'budget spent' } },
  { why: 'the configured order is followed', trial: {}, limits: { ladder: ['reorder', 'exclusive'] }, expect: { do: 'rerun', tweak: 'reorder' } },
  { why: 'a tweak left out of the config is never tried', trial: { kind: 'stack' }, limits: { ladder: ['fresh', 'exclusive'] }, expect: { do: 'quarantine', why: 'nothing left to try' } },
]

for (const row of rungRows) {
  test(`next rung: ${row.why}`, () => {
    assert.deepEqual(nextRung({ ...trial, ...row.trial }, { ...limits, ...row.limits }), row.expect)
  })
}
