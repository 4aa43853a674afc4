// items: browsing (category and region pages, search), one item's page, and selling.
// Listings cover the 5,000 catalogue items; items put up for sale are reached by their id.
import { Router } from 'express'
import { PAGE_SIZE, categories, categoryItems, regionItems, regions, searchTitles } from '../data/catalogue.js'
import { kv } from '../data/kv.js'
import { FIRST_NEW_ITEM, NEXT_ITEM_KEY, checkedItem, itemKey, itemView, parseId, pushNewest, userFrom, userKey } from '../data/records.js'
import { faultHook, parseSearch, readModifyWrite } from '../faults.js'
import { requireUser } from './session.js'

export const items = Router()
items.use(faultHook('items'))

/** [{ id, title, price }] for catalogue ids, with their current prices (one getMany). */
async function summaries(ids) {
  const stored = await kv.getMany(ids.map(itemKey))
  return ids.map((id, i) => {
    const item = checkedItem(id, stored[i])
    return { id, title: item.title, price: item.price }
  })
}

/** A page of a listing (?page=N, from 1), or null after answering 400/404. */
async function listing(req, res, all, ids) {
  const id = parseId(req.params.id)
  if (id === undefined || id > all.length) return void res.status(404).json({ error: `no such ${all === categories ? 'category' : 'region'}` })
  const page = req.query.page === undefined ? 1 : parseId(req.query.page)
  if (page === undefined) return void res.status(400).json({ error: 'page must be a positive integer' })
  const every = ids(id)
  const slice = every.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE)
  return { id, page, pages: Math.ceil(every.length / PAGE_SIZE), items: await summaries(slice) }
}

items.get('/categories/:id', async (req, res) => {
  const found = await listing(req, res, categories, categoryItems)
  if (found) res.json({ category: found.id, page: found.page, pages: found.pages, items: found.items })
})

items.get('/regions/:id', async (req, res) => {
  const found = await listing(req, res, regions, regionItems)
  if (found) res.json({ region: found.id, page: found.page, pages: found.pages, items: found.items })
})

items.get('/search', async (req, res) => {
  const q = req.query.q
  if (typeof q !== 'string' || q.trim() === '') return void res.status(400).json({ error: 'q is required' })
  const word = await parseSearch(q)
  res.json({ q, items: await summaries(searchTitles(word, PAGE_SIZE)) })
})

items.get('/:id', async (req, res) => {
  const id = parseId(req.params.id)
  const item = id === undefined ? undefined : checkedItem(id, await kv.get(itemKey(id)))
  if (!item) return void res.status(404).json({ error: 'no such item' })
  res.json(itemView(item))
})

items.post('/', async (req, res) => {
  const seller = await requireUser(req, res)
  if (seller === null) return
  const { title, category, region, price } = req.body ?? {}
  if (typeof title !== 'string' || title.trim() === '' || title.length > 100) return void res.status(400).json({ error: 'title must be 1-100 characters' })
  if (!categories.some((c) => c.id === category)) return void res.status(400).json({ error: 'no such category' })
  if (!regions.some((r) => r.id === region)) return void res.status(400).json({ error: 'no such region' })
  if (!(Number.isFinite(price) && price > 0)) return void res.status(400).json({ error: 'price must be a positive number' })
  const id = await readModifyWrite(NEXT_ITEM_KEY, (last) => (last ?? FIRST_NEW_ITEM - 1) + 1)
  const meta = { title, category, region, seller, start: price, buyNow: null }
  await kv.set(itemKey(id), { price, bids: 0, sold: false, buyer: null, recent: [], meta })
  await kv.update(userKey(seller), (stored) => {
    const user = userFrom(stored)
    return { ...user, selling: pushNewest(user.selling, id) }
  })
  res.json({ id })
})
