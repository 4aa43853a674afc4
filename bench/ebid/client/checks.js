// Body checks: the shapes of API.md's answers, and their values against what the user knows and
// the run's shared facts. A failed check throws ActionFailed with a categorical reason.
import { ActionFailed } from './http.js'

export const PAGE_SIZE = 20

export function check(cond, reason, detail) {
  if (!cond) throw new ActionFailed(reason, detail)
}

const isId = (x) => Number.isInteger(x) && x > 0
const isPrice = (x) => typeof x === 'number' && Number.isFinite(x) && x >= 0
const isStr = (x) => typeof x === 'string' && x.length > 0
const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x)

export function checkHome(body) {
  check(isObj(body) && body.service === 'ebid', 'bad home', 'service')
  for (const key of ['categories', 'regions']) {
    const list = body[key]
    check(Array.isArray(list) && list.length > 0, 'bad home', key)
    check(list.every((c) => isObj(c) && isId(c.id) && isStr(c.name)), 'bad home', `${key} entry`)
    check(new Set(list.map((c) => c.id)).size === list.length, 'bad home', `${key} ids repeat`)
  }
}

/** A list answer ({ [field]: value, items }) of at most `max` distinct item summaries. */
export function checkList(body, field, value, max = PAGE_SIZE) {
  check(isObj(body) && body[field] === value, 'bad list', `${field} ${body?.[field]} != ${value}`)
  const items = body.items
  check(Array.isArray(items) && items.length <= max, 'bad list', `items ${Array.isArray(items) ? items.length : typeof items}`)
  for (const it of items) check(isObj(it) && isId(it.id) && isStr(it.title) && isPrice(it.price), 'bad list', `entry ${JSON.stringify(it)?.slice(0, 60)}`)
  check(new Set(items.map((i) => i.id)).size === items.length, 'bad list', 'repeated items')
  return items
}

export function checkItemShape(item, id) {
  check(isObj(item) && item.id === id, 'bad item', `id ${item?.id} != ${id}`)
  check(isStr(item.title) && isId(item.category) && isId(item.region) && isStr(item.seller), 'bad item', 'fields')
  check(isPrice(item.price), 'bad item', `price ${item.price}`)
  check(item.buyNow === null || isPrice(item.buyNow), 'bad item', `buyNow ${item.buyNow}`)
  check(typeof item.sold === 'boolean' && Number.isInteger(item.bids) && item.bids >= 0, 'bad item', 'sold/bids')
  if (item.buyer !== undefined && item.buyer !== null) check(item.sold && isStr(item.buyer), 'bad item', 'buyer of unsold item')
}

/**
 * `item` (read by a request sent at `sentAt`, answered at `at`) against the user's knowledge and the
 * shared facts; then adds it to the facts.
 */
export function checkItemKnown(ctx, user, item, { sentAt, at }) {
  const contradiction = ctx.facts.contradiction(item, sentAt)
  if (contradiction) check(false, ...contradiction)
  const mine = user.bids.get(item.id)
  if (mine !== undefined) check(item.price >= mine, 'price below my bid', `item ${item.id} price ${item.price} < ${mine}`)
  if (user.bought.has(item.id)) {
    check(item.sold, 'bought item unsold', `item ${item.id}`)
    if (item.buyer !== undefined) check(item.buyer === user.name, 'buyer changed', `item ${item.id} buyer ${item.buyer}`)
  }
  const sale = user.selling.get(item.id)
  if (sale) {
    check(item.seller === user.name, 'seller changed', `item ${item.id} seller ${item.seller}`)
    check(item.title === sale.title && item.category === sale.category && item.region === sale.region, 'my item changed', `item ${item.id}`)
    check(item.price >= sale.price, 'price below start', `item ${item.id} price ${item.price} < ${sale.price}`)
    if (item.bids === 0) check(item.price === sale.price, 'price changed without a bid', `my item ${item.id} price ${item.price}, put up at ${sale.price}`)
  }
  ctx.facts.observe(item, at)
}

/** A bids answer: at most 20, newest first, so amounts strictly decrease (a bid must beat the price). */
export function checkBids(body, id) {
  check(isObj(body) && body.item === id && Array.isArray(body.bids), 'bad bids', `item ${body?.item}`)
  const bids = body.bids
  check(bids.length <= PAGE_SIZE, 'bad bids', `${bids.length} bids`)
  for (const b of bids) check(isObj(b) && isStr(b.user) && isPrice(b.amount), 'bad bids', `entry ${JSON.stringify(b)?.slice(0, 60)}`)
  for (let i = 1; i < bids.length; i++) check(bids[i].amount < bids[i - 1].amount, 'bids not decreasing', `item ${id}: ${bids[i - 1].amount} then ${bids[i].amount}`)
  return bids
}

/** The user's highest successful bid on `id` shows in `bids`, or was pushed out by 20 higher ones. */
export function checkMyBidListed(user, bids, id) {
  const mine = user.bids.get(id)
  if (mine === undefined) return
  const listed = bids.some((b) => b.user === user.name && b.amount === mine)
  const pushedOut = bids.length === PAGE_SIZE && bids[bids.length - 1].amount > mine
  check(listed || pushedOut, 'my bid missing', `item ${id} amount ${mine}`)
}

export function checkMe(body, user) {
  check(isObj(body) && body.user === user.name, 'bad me', `user ${body?.user} != ${user.name}`)
  check(Array.isArray(body.bids) && body.bids.every((b) => isObj(b) && isId(b.item) && isPrice(b.amount)), 'bad me', 'bids')
  check(Array.isArray(body.selling) && body.selling.every(isId), 'bad me', 'selling')
  check(Array.isArray(body.bought) && body.bought.every(isId), 'bad me', 'bought')
}

/**
 * /users/me against what the user knows it did. The server keeps the newest 20 of each list,
 * newest first, and may list writes whose answers the user never saw. So the known entries that
 * show must be the newest known ones, in order; an older one may drop out only of a full list.
 */
export function checkMeKnown(body, user) {
  checkNewestKnown(body.bids, user.log.bids, (a, b) => a.item === b.item && a.amount === b.amount, 'bid', (e) => `item ${e.item} amount ${e.amount}`)
  checkNewestKnown(body.selling, user.log.selling, (a, b) => a === b, 'sale', (e) => `item ${e}`)
  checkNewestKnown(body.bought, user.log.bought, (a, b) => a === b, 'purchase', (e) => `item ${e}`)
}

function checkNewestKnown(listed, log, same, what, show) {
  let lastPos = -1
  let dropped = false
  for (let i = log.length - 1; i >= 0; i--) {
    const pos = listed.findIndex((l) => same(l, log[i]))
    if (pos < 0) {
      check(listed.length >= PAGE_SIZE, `my ${what} missing in me`, show(log[i]))
      dropped = true
      continue
    }
    check(!dropped, `my ${what} missing in me`, `a newer one is missing, ${show(log[i])} shows`)
    check(pos > lastPos, `my ${what}s out of order in me`, show(log[i]))
    lastPos = pos
  }
}
