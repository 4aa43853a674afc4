// One emulated user: its PRNG stream, its account, its cookie jar, and what it knows and so
// expects of the service (its successful bids, the items it sells and bought, the last list it
// looked at). Knowledge only grows from answers the user saw; a write whose answer was lost is not
// remembered, so every check on it is "at least", never "exactly".
import { START_STATE, mixSeed, prng, randInt } from './markov.js'

export const ACCOUNTS = 2000

export class CookieJar {
  #cookies = new Map()

  /** Applies Set-Cookie header value(s): `name=value; attrs`; an empty value or Max-Age<=0 or a past Expires deletes. */
  update(setCookie) {
    for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const [pair, ...attrs] = String(line).split(';')
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const gone = value === '' || attrs.some((a) => {
        const [k, v = ''] = a.split('=').map((s) => s.trim())
        if (/^max-age$/i.test(k)) return Number(v) <= 0
        if (/^expires$/i.test(k)) return Date.parse(v) <= Date.now()
        return false
      })
      if (gone) this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
  }

  get(name) {
    return this.#cookies.get(name)
  }

  header() {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  clear() {
    this.#cookies.clear()
  }
}

/**
 * User `index` of a run of `users` users. Accounts are drawn from the PRNG within the user's own
 * residue class (k ≡ index+1 mod users), so concurrent emulated users never share an account while
 * there are fewer than 2,000 of them: one user's logout can't end another's session.
 */
export function createUser({ index, users, seed }) {
  const rng = prng(mixSeed(seed, index))
  const first = (index % ACCOUNTS) + 1
  const k = first + users * randInt(rng, 0, Math.floor((ACCOUNTS - first) / users))
  return {
    index,
    rng,
    name: `u${k}`,
    password: `pw${k}`,
    jar: new CookieJar(),
    state: START_STATE,
    catalog: null, // { categories: [{id,name}], regions: [{id,name}] } from GET /
    browse: { category: null, categoryPage: 1, region: null, regionPage: 1 },
    lastList: null, // { kind: 'category'|'region'|'search', key, items: [{id,title,price}] }
    current: null, // the last item read: { id, ... } as answered
    words: [], // words of titles seen, for searches and for the titles of items put up for sale
    buyNowSeen: [], // ids of unsold items seen with a buy-now price
    bids: new Map(), // item id → highest amount of this user's successful bids
    selling: new Map(), // item id → { title, category, region, price } as put up for sale
    bought: new Set(), // item ids
    log: { bids: [], selling: [], bought: [] }, // the same, oldest first, to check /users/me's order
    sellCount: 0,
  }
}

export function loggedIn(user) {
  return user.jar.get('ebid') !== undefined
}

/** Remembers words of titles, bounded, for later searches. */
export function learnTitle(user, title) {
  for (const w of title.split(/[^A-Za-z]+/)) {
    if (w.length < 3 || user.words.includes(w)) continue
    user.words.push(w)
    if (user.words.length > 200) user.words.shift()
  }
}

/** Remembers an unsold item with a buy-now price (bounded), or forgets it once sold. */
export function noteBuyNow(user, item) {
  const i = user.buyNowSeen.indexOf(item.id)
  if (i >= 0) user.buyNowSeen.splice(i, 1)
  if (item.buyNow !== null && !item.sold && item.seller !== user.name) {
    user.buyNowSeen.push(item.id)
    if (user.buyNowSeen.length > 50) user.buyNowSeen.shift()
  }
}

/** Remembers a successful bid (answered 200). */
export function rememberBid(user, item, amount) {
  user.bids.set(item, Math.max(amount, user.bids.get(item) ?? -Infinity))
  user.log.bids.push({ item, amount })
  trim(user.log.bids)
}

export function rememberSale(user, id, sale) {
  user.selling.set(id, sale)
  user.log.selling.push(id)
  trim(user.log.selling)
}

export function rememberPurchase(user, id) {
  user.bought.add(id)
  user.log.bought.push(id)
  trim(user.log.bought)
}

// Only the newest entries can still show in /users/me: keep the logs short.
function trim(log) {
  if (log.length > 100) log.splice(0, log.length - 100)
}
