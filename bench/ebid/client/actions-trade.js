// Trading actions: bid, raise a bid, buy now, sell, and look at what one bids on, sells, bought.
// 409 is a correct answer when another user got there first (outbid, bought); the action then
// re-reads the item and checks that the 409 was justified.
import { check } from './checks.js'
import { CATALOGUE_ITEMS, currentOrRandom, ensureCatalog, ensureLogin, readItem } from './common.js'
import { checkPriceAgainstTopBid, readBids, viewBids } from './actions-browse.js'
import { pick, randInt } from './markov.js'
import { rememberBid, rememberPurchase, rememberSale } from './user.js'

/** Read the item, bid a little above its price, then see the bid in the item's bid list. */
async function placeBid(ctx, user, id) {
  await ensureLogin(ctx, user)
  const item = await readItem(ctx, user, id)
  if (item.seller === user.name) return // no bidding on one's own item: the page view is the action
  const amount = item.price + randInt(user.rng, 1, 10)
  const res = await ctx.request(user, { method: 'POST', path: `/bids/${id}`, json: { amount }, expect: item.sold ? [409] : [200, 409] })
  if (res.status === 409) {
    const now = await readItem(ctx, user, id)
    check(now.sold || now.price >= amount, 'unjustified 409 on bid', `item ${id}: price ${now.price} < ${amount}, not sold`)
    return
  }
  check(res.body?.item === id && res.body.price === amount, 'bad bid answer', JSON.stringify(res.body)?.slice(0, 60))
  rememberBid(user, id, amount)
  ctx.facts.notePrice(id, amount, res.at)
  // The item, then its bids: the bid shows, and the price is between it and the top bid.
  const after = await readItem(ctx, user, id)
  const bids = await readBids(ctx, user, id)
  check(bids.length > 0 && bids[0].amount >= amount, 'bid not in list', `item ${id} amount ${amount}`)
  checkPriceAgainstTopBid(after, bids)
}

function pickKnown(user, collection) {
  const ids = [...collection.keys()]
  return ids.length ? pick(user.rng, ids) : currentOrRandom(user)
}

/** Buy now: the item is then sold to this user; 409 only when sold or buy-now is closed. */
async function buyNow(ctx, user) {
  await ensureLogin(ctx, user)
  const cur = user.current
  const id = cur && cur.buyNow !== null && !cur.sold && cur.seller !== user.name ? cur.id
    : user.buyNowSeen.length ? pick(user.rng, user.buyNowSeen) : randInt(user.rng, 1, CATALOGUE_ITEMS)
  const item = await readItem(ctx, user, id)
  if (item.seller === user.name) return
  const open = item.buyNow !== null && !item.sold
  const res = await ctx.request(user, { method: 'POST', path: `/bids/${id}/buy-now`, expect: open ? [200, 409] : [409] })
  if (res.status === 409) {
    const now = await readItem(ctx, user, id)
    check(now.sold || now.buyNow === null, 'unjustified 409 on buy-now', `item ${id}`)
    return
  }
  check(res.body?.item === id && res.body.sold === true && res.body.buyer === user.name, 'bad buy-now answer', JSON.stringify(res.body)?.slice(0, 80))
  rememberPurchase(user, id)
  ctx.facts.noteSold(id, user.name, res.at)
  const now = await readItem(ctx, user, id)
  check(now.buyNow === null, 'sold item still offers buy-now', `item ${id}`)
}

/** Put an item up for sale; its page then shows exactly what was sent, with this user as seller. */
async function sell(ctx, user) {
  await ensureLogin(ctx, user)
  const { categories, regions } = await ensureCatalog(ctx, user)
  const words = user.words.length >= 2 ? [pick(user.rng, user.words), pick(user.rng, user.words)] : ['item', 'for sale']
  const sale = {
    title: `${words.join(' ')} ${user.name}-${++user.sellCount}`,
    category: pick(user.rng, categories).id,
    region: pick(user.rng, regions).id,
    price: randInt(user.rng, 1, 500),
  }
  const res = await ctx.request(user, { method: 'POST', path: '/items', json: sale, expect: [200, 201] })
  const id = res.body?.id
  check(Number.isInteger(id) && id > CATALOGUE_ITEMS, 'bad sell answer', JSON.stringify(res.body)?.slice(0, 60))
  rememberSale(user, id, sale)
  // readItem's knowledge checks cover title, category, region, seller and price >= start.
  const item = await readItem(ctx, user, id)
  check(item.buyNow === null && item.sold === false, 'new item sold or with buy-now', `item ${id}`)
}

export const tradeActions = {
  bid: (ctx, user) => placeBid(ctx, user, currentOrRandom(user)),
  raiseBid: (ctx, user) => placeBid(ctx, user, pickKnown(user, user.bids)),
  buyNow,
  sell,
  /** One of the user's items (the knowledge checks cover seller and data) and its bids. */
  viewOwnItem: (ctx, user) => viewBids(ctx, user, pickKnown(user, user.selling)),
  /** An item the user bid on, its bids, the item again: its highest bid shows unless 20 higher followed. */
  async viewMyBids(ctx, user) {
    const id = pickKnown(user, user.bids)
    await viewBids(ctx, user, id)
  },
  /** An item the user bought: still sold (readItem checks it against the user's purchases). */
  viewBought: async (ctx, user) => {
    await readItem(ctx, user, pickKnown(user, user.bought))
  },
}
