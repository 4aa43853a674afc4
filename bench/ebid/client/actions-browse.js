// Browsing actions: home, categories and regions with their pages, search, an item, its bids.
import { PAGE_SIZE, check, checkBids, checkList, checkMyBidListed } from './checks.js'
import { currentOrRandom, ensureCatalog, readHome, readItem, CATALOGUE_ITEMS } from './common.js'
import { pick, randInt } from './markov.js'
import { learnTitle } from './user.js'

const FIRST_PAGE = 1

/**
 * GET one page of a category or region and check it: only that category/region (when entries say
 * so; viewItem checks the item page of an entry), prices not below what was seen, page 1 not empty.
 */
async function readPage(ctx, user, kind, id, page) {
  const path = `/items/${kind === 'category' ? 'categories' : 'regions'}/${id}?page=${page}`
  const res = await ctx.request(user, { path })
  const items = checkList(res.body, kind, id)
  if (page === FIRST_PAGE) check(items.length > 0, 'empty first page', `${kind} ${id}`)
  const { pages } = res.body
  if (pages !== undefined) check(Number.isInteger(pages) && (items.length > 0) === (page <= pages), 'bad list', `page ${page} of ${pages} has ${items.length} items`)
  for (const it of items) if (it[kind] !== undefined) check(it[kind] === id, `wrong ${kind} in list`, `item ${it.id} ${kind} ${it[kind]} on ${kind} ${id}`)
  observeList(ctx, user, res, items, kind, id)
  return items
}

/** List entries' prices against the facts, then into them; the list becomes the user's last one. */
function observeList(ctx, user, res, items, kind, key) {
  for (const it of items) {
    const wrong = ctx.facts.priceContradiction(it.id, it.price, res.sentAt)
    if (wrong) check(false, ...wrong)
    ctx.facts.observeListed(it.id, it.price, res.at)
    learnTitle(user, it.title)
  }
  if (items.length) user.lastList = { kind, key, items }
}

/** Browse `kind`: first page of the chosen (or a random) category/region, or the next page. */
async function browsePage(ctx, user, kind, next) {
  const { categories, regions } = await ensureCatalog(ctx, user)
  const b = user.browse
  const field = kind === 'category' ? 'category' : 'region'
  if (b[field] === null) b[field] = pick(user.rng, kind === 'category' ? categories : regions).id
  const pageField = `${field}Page`
  const page = next ? b[pageField] + 1 : FIRST_PAGE
  const items = await readPage(ctx, user, kind, b[field], page)
  // Past the last page: start over at the first one.
  b[pageField] = items.length < PAGE_SIZE ? FIRST_PAGE - 1 : page
}

async function chooseFrom(ctx, user, listKey) {
  const list = (await ensureCatalog(ctx, user))[listKey]
  return pick(user.rng, list).id
}

async function search(ctx, user) {
  // One search in ten looks for a word no title has; the others for a word of a title seen.
  const nonsense = user.rng() < 0.1
  if (!nonsense && user.words.length === 0) await readItem(ctx, user, randInt(user.rng, 1, CATALOGUE_ITEMS))
  const word = nonsense ? `zqx${randInt(user.rng, 1000, 9999)}` : pick(user.rng, user.words)
  const res = await ctx.request(user, { path: `/items/search?q=${encodeURIComponent(word)}` })
  const items = checkList(res.body, 'q', word)
  const needle = word.toLowerCase()
  for (const it of items) check(it.title.toLowerCase().includes(needle), 'search result without the word', `"${it.title}" for ${word}`)
  if (nonsense) check(items.length === 0, 'search found a word no title has', word)
  else check(items.length > 0, 'search missed a known word', word)
  observeList(ctx, user, res, items, 'search', needle)
}

/** An item from the last list (its page must agree with the entry), or a random one. */
async function viewItem(ctx, user) {
  const list = user.lastList
  if (!list || user.rng() < 0.1) {
    await readItem(ctx, user, randInt(user.rng, 1, CATALOGUE_ITEMS))
    return
  }
  const entry = pick(user.rng, list.items)
  const item = await readItem(ctx, user, entry.id)
  check(item.title === entry.title, 'title differs from list', `item ${item.id}`)
  if (list.kind === 'category') check(item.category === list.key, 'wrong category in list', `item ${item.id} category ${item.category} on page of ${list.key}`)
  if (list.kind === 'search') check(item.title.toLowerCase().includes(list.key), 'search result without the word', `item ${item.id} for ${list.key}`)
  if (list.kind === 'region') check(item.region === list.key, 'wrong region in list', `item ${item.id} region ${item.region} on page of ${list.key}`)
}

/**
 * Item, its bids, the item again. Bids are newest first and each one set the price, so the price
 * before is at most the top bid (unless sold: buy-now sets the buy-now price) and the price after
 * at least; when the item did not change between the two reads, the top bid is the price and the
 * list holds min(bids, 20) entries.
 */
export async function viewBids(ctx, user, id = currentOrRandom(user)) {
  const before = await readItem(ctx, user, id)
  const bids = await readBids(ctx, user, id)
  const after = await readItem(ctx, user, id)
  if (bids.length) checkPriceAgainstTopBid(before, bids, after)
  check(bids.length <= after.bids, 'more bids listed than counted', `item ${id}: ${bids.length} > ${after.bids}`)
  const unchanged = before.price === after.price && before.bids === after.bids && before.sold === after.sold
  if (unchanged) check(bids.length === Math.min(after.bids, PAGE_SIZE), 'bid count differs', `item ${id}: ${bids.length} listed, ${after.bids} counted`)
}

/** GET /bids/:id with its checks (shape, order, the user's own highest bid listed). */
export async function readBids(ctx, user, id) {
  const res = await ctx.request(user, { path: `/bids/${id}` })
  const bids = checkBids(res.body, id)
  checkMyBidListed(user, bids, id)
  return bids
}

/** `before` read before the (non-empty) bid list, `after` (optional) after it. */
export function checkPriceAgainstTopBid(before, bids, after) {
  const top = bids[0].amount
  if (before && !before.sold) check(before.price <= top, 'price above top bid', `item ${before.id}: price ${before.price} > top bid ${top}`)
  if (after) check(top <= after.price, 'top bid above price', `item ${after.id}: top bid ${top} > price ${after.price}`)
}

export const browseActions = {
  home: (ctx, user) => readHome(ctx, user),
  async browseCategories(ctx, user) {
    await readHome(ctx, user)
    user.browse.category = await chooseFrom(ctx, user, 'categories')
  },
  categoryPage: (ctx, user) => browsePage(ctx, user, 'category', false),
  categoryNextPage: (ctx, user) => browsePage(ctx, user, 'category', true),
  async browseRegions(ctx, user) {
    await readHome(ctx, user)
    user.browse.region = await chooseFrom(ctx, user, 'regions')
  },
  regionPage: (ctx, user) => browsePage(ctx, user, 'region', false),
  regionNextPage: (ctx, user) => browsePage(ctx, user, 'region', true),
  search,
  viewItem,
  viewBids: (ctx, user) => viewBids(ctx, user),
}
