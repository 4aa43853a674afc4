// bids: an item's recent bids, placing a bid, buying now. The item's price, bid count, sold flag
// and recent bids live in one key (item:<id>) changed by one read-modify-write; the bidder's
// record (user:<name>) is updated after it.
import { Router } from 'express'
import { kv } from '../data/kv.js'
import { buyNowOpen, checkedItem, itemFrom, itemKey, itemRecord, parseId, pushNewest, userFrom, userKey } from '../data/records.js'
import { faultHook, readModifyWrite } from '../faults.js'
import { requireUser } from './session.js'

export const bids = Router()
bids.use(faultHook('bids'))

bids.get('/:itemId', async (req, res) => {
  const id = parseId(req.params.itemId)
  const item = id === undefined ? undefined : checkedItem(id, await kv.get(itemKey(id)))
  if (!item) return void res.status(404).json({ error: 'no such item' })
  res.json({ item: id, bids: item.recent })
})

/**
 * Changes item `id` with `change(item)`, which returns an error message (nothing is written) or
 * undefined (the changed item is written). Answers 404/409 itself and returns false then.
 */
async function changeItem(res, id, change) {
  let failure = 'no such item'
  let status = 404
  if (id !== undefined) await readModifyWrite(itemKey(id), (stored) => {
    const item = itemFrom(id, stored)
    if (!item) return undefined
    failure = change(item)
    status = 409
    return failure === undefined ? itemRecord(item) : undefined
  })
  if (failure !== undefined) res.status(status).json({ error: failure })
  return failure === undefined
}

const addToUser = (name, field, entry) =>
  kv.update(userKey(name), (stored) => {
    const user = userFrom(stored)
    return { ...user, [field]: pushNewest(user[field], entry) }
  })

bids.post('/:itemId', async (req, res) => {
  const user = await requireUser(req, res)
  if (user === null) return
  const id = parseId(req.params.itemId)
  const amount = req.body?.amount
  if (!(Number.isFinite(amount) && amount > 0)) return void res.status(400).json({ error: 'amount must be a positive number' })
  const placed = await changeItem(res, id, (item) => {
    if (item.sold) return 'the item is sold'
    if (!(amount > item.price)) return `the bid must exceed the current price ${item.price}`
    item.price = amount
    item.bids += 1
    item.recent = pushNewest(item.recent, { user, amount })
  })
  if (!placed) return
  await addToUser(user, 'bids', { item: id, amount })
  res.json({ item: id, price: amount })
})

bids.post('/:itemId/buy-now', async (req, res) => {
  const buyer = await requireUser(req, res)
  if (buyer === null) return
  const id = parseId(req.params.itemId)
  const bought = await changeItem(res, id, (item) => {
    if (item.sold) return 'the item is sold'
    if (!buyNowOpen(item)) return 'the item has no buy-now price (any more)'
    item.sold = true
    item.buyer = buyer
    item.price = item.buyNow
  })
  if (!bought) return
  await addToUser(buyer, 'bought', id)
  res.json({ item: id, sold: true, buyer })
})
