// Facts about items shared by all emulated users of a run: the highest price anyone saw (or bid
// successfully) and whether anyone saw the item sold, each with the time the answer arrived. A
// read whose request was sent after that time must not contradict them: prices never go down and a
// sold item stays sold. And, whenever they were seen: an unsold item's price is a function of its
// bid count (the start price at 0 bids, then the n-th bid), because only a bid (which counts) or a
// buy-now (which sells) changes it. This catches lost updates (race), values silently rewritten
// (corruption) and data lost in a restart, whichever user's read happens to meet them.
export class Facts {
  #items = new Map()

  #entry(id) {
    let e = this.#items.get(id)
    if (!e) this.#items.set(id, (e = { price: -Infinity, priceAt: 0, sold: false, soldAt: 0, buyer: null, byCount: new Map(), listed: null }))
    return e
  }

  /** The price was at least `price` by time `at` (performance.now()). */
  notePrice(id, price, at) {
    const e = this.#entry(id)
    if (price > e.price) Object.assign(e, { price, priceAt: at })
  }

  /** The item was sold (to `buyer`, when known) by time `at`. */
  noteSold(id, buyer, at) {
    const e = this.#entry(id)
    if (!e.sold) Object.assign(e, { sold: true, soldAt: at })
    if (buyer && !e.buyer) e.buyer = buyer
  }

  /** What is wrong with `item` as answered to a request sent at `sentAt`, or null. */
  contradiction(item, sentAt) {
    const e = this.#items.get(item.id)
    if (!e) return null
    if (e.priceAt < sentAt && item.price < e.price) return ['price went down', `item ${item.id} price ${item.price} < ${e.price} seen before`]
    if (e.sold && e.soldAt < sentAt && !item.sold) return ['sold item unsold', `item ${item.id}`]
    if (!item.sold && e.byCount.has(item.bids) && e.byCount.get(item.bids) !== item.price) return ['price changed without a bid', `item ${item.id} price ${item.price} at ${item.bids} bids, was ${e.byCount.get(item.bids)}`]
    // A list entry has no bid count, but if the item still has none, its price is what was listed.
    if (!item.sold && item.bids === 0 && e.listed && e.listed.at < sentAt && item.price !== e.listed.price) return ['price changed without a bid', `item ${item.id} price ${item.price} at 0 bids, listed at ${e.listed.price}`]
    const start = e.byCount.get(0)
    if (start !== undefined && item.price < start) return ['price below start', `item ${item.id} price ${item.price} < start ${start}`]
    if (e.buyer && item.buyer !== undefined && item.buyer !== e.buyer) return ['buyer changed', `item ${item.id} buyer ${item.buyer} != ${e.buyer}`]
    return null
  }

  /** What is wrong with a list entry's `price` for item `id` (request sent at `sentAt`), or null. */
  priceContradiction(id, price, sentAt) {
    const e = this.#items.get(id)
    if (e && e.priceAt < sentAt && price < e.price) return ['price went down', `item ${id} listed at ${price} < ${e.price} seen before`]
    if (e?.byCount.has(0) && price < e.byCount.get(0)) return ['price below start', `item ${id} listed at ${price} < start ${e.byCount.get(0)}`]
    return null
  }

  /** Records a list entry's price (answer arrived at `at`). */
  observeListed(id, price, at) {
    this.notePrice(id, price, at)
    this.#entry(id).listed ??= { price, at }
  }

  /** Records what a read of `item` (answer arrived at `at`) shows. */
  observe(item, at) {
    this.notePrice(item.id, item.price, at)
    if (!item.sold && !this.#items.get(item.id).byCount.has(item.bids)) this.#items.get(item.id).byCount.set(item.bids, item.price)
    if (item.sold) this.noteSold(item.id, item.buyer ?? null, at)
  }
}
