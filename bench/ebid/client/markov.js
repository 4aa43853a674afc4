// The emulated users' Markov chain (after the RUBiS/eBid client of the Microreboot paper): a
// fixed table of transition probabilities, and a seeded PRNG so that a run's sequence of choices
// is reproducible. Each row lists the next states of one state; probabilities are written out
// (not normalised at run time) so the self-test can check that every row sums to 1.

/** mulberry32: small, fast, good enough for choosing states and think times. Returns () => [0,1). */
export function prng(seed) {
  let a = seed >>> 0
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A seed for stream `index` of run seed `seed` (so user 3 of seed 7 is always the same user). */
export function mixSeed(seed, index) {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

/** An integer in [lo, hi]. */
export function randInt(rng, lo, hi) {
  return lo + Math.floor(rng() * (hi - lo + 1))
}

/** A random element of a non-empty array. */
export function pick(rng, array) {
  return array[Math.floor(rng() * array.length)]
}

export const START_STATE = 'home'

// Reading the table: a visitor mostly browses (categories, regions, search) and views items;
// from an item page it looks at the bids, bids, buys, or goes back. States that need a session
// (aboutMe, bid, raiseBid, buyNow, sell) log in first inside their action when logged out, as
// RUBiS's "put bid" page asks for a nickname and password.
export const TRANSITIONS = {
  home: { browseCategories: 0.3, browseRegions: 0.15, search: 0.2, viewItem: 0.1, login: 0.1, aboutMe: 0.05, sell: 0.03, viewOwnItem: 0.02, viewBought: 0.02, badLogin: 0.01, home: 0.02 },
  browseCategories: { categoryPage: 0.9, home: 0.1 },
  categoryPage: { viewItem: 0.6, categoryNextPage: 0.2, browseCategories: 0.1, home: 0.1 },
  categoryNextPage: { viewItem: 0.6, categoryNextPage: 0.15, categoryPage: 0.1, home: 0.15 },
  browseRegions: { regionPage: 0.9, home: 0.1 },
  regionPage: { viewItem: 0.6, regionNextPage: 0.2, browseRegions: 0.1, home: 0.1 },
  regionNextPage: { viewItem: 0.6, regionNextPage: 0.15, regionPage: 0.1, home: 0.15 },
  search: { viewItem: 0.65, search: 0.2, home: 0.15 },
  viewItem: { viewBids: 0.25, bid: 0.2, buyNow: 0.05, raiseBid: 0.05, viewMyBids: 0.05, categoryPage: 0.1, search: 0.1, aboutMe: 0.05, sell: 0.05, home: 0.1 },
  viewBids: { bid: 0.3, viewItem: 0.2, categoryPage: 0.2, search: 0.1, home: 0.2 },
  login: { home: 0.3, aboutMe: 0.3, sell: 0.1, bid: 0.1, viewMyBids: 0.1, search: 0.1 },
  badLogin: { login: 0.7, home: 0.3 },
  logout: { home: 0.9, badLogin: 0.1 },
  aboutMe: { viewMyBids: 0.25, viewOwnItem: 0.2, viewBought: 0.1, raiseBid: 0.1, logout: 0.15, home: 0.2 },
  bid: { viewBids: 0.2, aboutMe: 0.2, raiseBid: 0.1, categoryPage: 0.15, search: 0.15, home: 0.2 },
  raiseBid: { viewMyBids: 0.3, aboutMe: 0.3, raiseBid: 0.2, home: 0.2 },
  buyNow: { viewBought: 0.4, aboutMe: 0.3, home: 0.3 },
  sell: { viewOwnItem: 0.5, aboutMe: 0.2, logout: 0.1, home: 0.2 },
  viewOwnItem: { viewBids: 0.3, aboutMe: 0.2, sell: 0.1, logout: 0.1, home: 0.3 },
  viewMyBids: { raiseBid: 0.3, aboutMe: 0.2, viewItem: 0.1, logout: 0.1, home: 0.3 },
  viewBought: { aboutMe: 0.3, logout: 0.2, home: 0.5 },
}

export const STATES = Object.keys(TRANSITIONS)

// Rows as cumulative arrays, built once, for a cheap walk.
const CUMULATIVE = Object.fromEntries(STATES.map((s) => {
  let sum = 0
  return [s, Object.entries(TRANSITIONS[s]).map(([to, p]) => [to, (sum += p)])]
}))

/** The state after `state`, drawn with `rng`. */
export function nextState(rng, state) {
  const row = CUMULATIVE[state]
  const u = rng() * row[row.length - 1][1]
  for (const [to, c] of row) if (u < c) return to
  return row[row.length - 1][0]
}

/** Problems with the table: rows not summing to 1, unknown targets, states not reachable from the start. */
export function chainProblems() {
  const problems = []
  for (const s of STATES) {
    const sum = Object.values(TRANSITIONS[s]).reduce((a, b) => a + b, 0)
    if (Math.abs(sum - 1) > 1e-9) problems.push(`row ${s} sums to ${sum}`)
    for (const [to, p] of Object.entries(TRANSITIONS[s])) {
      if (!(to in TRANSITIONS)) problems.push(`row ${s} goes to unknown state ${to}`)
      if (!(p > 0)) problems.push(`row ${s} has probability ${p} for ${to}`)
    }
  }
  const seen = new Set([START_STATE])
  const queue = [START_STATE]
  while (queue.length) for (const to of Object.keys(TRANSITIONS[queue.shift()] ?? {})) if (!seen.has(to)) seen.add(to), queue.push(to)
  for (const s of STATES) if (!seen.has(s)) problems.push(`state ${s} is not reachable from ${START_STATE}`)
  return problems
}
