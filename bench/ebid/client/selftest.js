// Offline self-test of the chain (no server): `node bench/ebid/client/selftest.js [steps] [seed]`.
// Checks that every row sums to 1, every state is reachable from the start and has an action,
// then walks `steps` steps and prints each state's visit frequency next to the stationary
// distribution computed from the table (power iteration); exits 1 on a problem.
import { ACTIONS } from './actions.js'
import { START_STATE, STATES, TRANSITIONS, chainProblems, nextState, prng } from './markov.js'
import { CookieJar } from './user.js'

const steps = Number(process.argv[2] ?? 100_000)
const seed = Number(process.argv[3] ?? 7)
const problems = chainProblems()
for (const s of STATES) if (typeof ACTIONS[s] !== 'function') problems.push(`state ${s} has no action`)

// The walk.
const visits = Object.fromEntries(STATES.map((s) => [s, 0]))
const rng = prng(seed)
let state = START_STATE
for (let i = 0; i < steps; i++) {
  visits[state]++
  state = nextState(rng, state)
}

// The stationary distribution: pi = pi P, iterated from the uniform distribution.
let pi = Object.fromEntries(STATES.map((s) => [s, 1 / STATES.length]))
for (let iter = 0; iter < 2000; iter++) {
  const next = Object.fromEntries(STATES.map((s) => [s, 0]))
  for (const s of STATES) for (const [to, p] of Object.entries(TRANSITIONS[s])) next[to] += pi[s] * p
  pi = next
}

// Same seed, same walk.
const again = prng(seed)
let s2 = START_STATE
let t1 = START_STATE
const rng1 = prng(seed)
for (let i = 0; i < 1000; i++) {
  s2 = nextState(again, s2)
  t1 = nextState(rng1, t1)
  if (s2 !== t1) { problems.push('the walk is not reproducible'); break }
}

// The cookie jar keeps `ebid`, and drops it when the server expires it.
const jar = new CookieJar()
jar.update(['ebid=abc; Path=/; HttpOnly'])
if (jar.header() !== 'ebid=abc') problems.push(`cookie jar: ${jar.header()}`)
jar.update('ebid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT')
if (jar.get('ebid') !== undefined) problems.push('cookie jar keeps an expired cookie')

console.log(`${STATES.length} states, ${steps} steps, seed ${seed}`)
console.log('state              visits   freq    stationary')
let maxDiff = 0
for (const s of [...STATES].sort((a, b) => visits[b] - visits[a])) {
  const freq = visits[s] / steps
  maxDiff = Math.max(maxDiff, Math.abs(freq - pi[s]))
  if (visits[s] === 0) problems.push(`state ${s} never visited`)
  console.log(`${s.padEnd(18)} ${String(visits[s]).padStart(7)}  ${(100 * freq).toFixed(2).padStart(5)}%  ${(100 * pi[s]).toFixed(2).padStart(5)}%`)
}
console.log(`largest |freq - stationary| = ${(100 * maxDiff).toFixed(2)} points`)
if (STATES.length < 20) problems.push(`only ${STATES.length} states (API.md asks for at least 20)`)
if (steps >= 50_000 && maxDiff > 0.01) problems.push('visit frequencies far from the stationary distribution')
for (const p of problems) console.log(`PROBLEM: ${p}`)
console.log(problems.length ? 'FAIL' : 'OK')
process.exitCode = problems.length ? 1 : 0
