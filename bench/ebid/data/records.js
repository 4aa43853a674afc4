// The mutable records in the store and how they combine with the catalogue.
//
//   item:<id>   { price, bids, sold, buyer, recent: [{ user, amount }] newest first (max 20) }
//               absent for an untouched catalogue item; items put up for sale (id > 5000) also
//               carry `meta: { title, category, region, seller, start, buyNow }`
//   user:<name> { bids: [{ item, amount }], selling: [id], bought: [id] }, newest first (max 20 each)
//   sess:<tok>  the user name a login token belongs to
//   next-item   the last id given to an item put up for sale (5000 before the first sale)
import { ITEM_COUNT, catalogueItem } from './catalogue.js'

export const LIST_MAX = 20
export const itemKey = (id) => `item:${id}`
export const userKey = (name) => `user:${name}`
export const sessionKey = (token) => `sess:${token}`
export const NEXT_ITEM_KEY = 'next-item'
export const FIRST_NEW_ITEM = ITEM_COUNT + 1

/** "17" -> 17; anything that is not a plain positive integer id -> undefined. */
export function parseId(text) {
  if (typeof text !== 'string' || !/^[1-9][0-9]{0,8}$/.test(text)) return undefined
  return Number(text)
}

/**
 * The full item: catalogue (or sale) data merged with its stored state; undefined when there is
 * no such item. Does not validate the state (writers use it to overwrite a bad one).
 */
export function itemFrom(id, stored) {
  const meta = catalogueItem(id) ?? stored?.meta
  if (!meta) return undefined
  return {
    id,
    title: meta.title,
    category: meta.category,
    region: meta.region,
    seller: meta.seller,
    start: meta.start,
    buyNow: meta.buyNow,
    price: stored?.price ?? meta.start,
    bids: stored?.bids ?? 0,
    sold: stored?.sold ?? false,
    buyer: stored?.buyer ?? null,
    recent: stored?.recent ?? [],
    meta: stored?.meta,
  }
}

/** The stored form of an item (what goes under item:<id>). */
export function itemRecord(item) {
  const record = { price: item.price, bids: item.bids, sold: item.sold, buyer: item.buyer, recent: item.recent }
  if (item.meta) record.meta = item.meta
  return record
}

/**
 * Throws on an item whose stored price is not a valid price. This is how the app "meets" the
 * invalid value the `invalid-value` fault plants: every read path for display checks it and fails
 * (500) until a bid or a buy-now writes the item again.
 */
export function checkedItem(id, stored) {
  const item = itemFrom(id, stored)
  if (item && !(Number.isFinite(item.price) && item.price >= 0)) throw new Error(`item ${id} has an invalid price ${item.price}`)
  return item
}

/** Whether buy-now is still offered: the item has a buy-now price, is unsold and below it. */
export const buyNowOpen = (item) => item.buyNow !== null && !item.sold && item.price < item.buyNow

/** GET /items/:id's body. */
export function itemView(item) {
  return {
    id: item.id,
    title: item.title,
    category: item.category,
    region: item.region,
    seller: item.seller,
    price: item.price,
    buyNow: buyNowOpen(item) ? item.buyNow : null,
    sold: item.sold,
    bids: item.bids,
  }
}

/** A user's record, with the empty default. */
export const userFrom = (stored) => ({ bids: stored?.bids ?? [], selling: stored?.selling ?? [], bought: stored?.bought ?? [] })

/** Prepends `entry` to a newest-first list, keeping at most LIST_MAX. */
export const pushNewest = (list, entry) => [entry, ...list].slice(0, LIST_MAX)
