// The immutable seed catalogue: users, categories, regions and items, generated at module load
// from EBID_SEED. Every field is a pure function of (seed, index), so every process of every peer
// builds the same catalogue without a seeding step, and nothing of it lives in the store.
export const SEED = Number(process.env.EBID_SEED ?? 42)
export const USER_COUNT = 2_000
export const ITEM_COUNT = 5_000
export const PAGE_SIZE = 20

const CATEGORY_NOUNS = {
  Antiques: ['clock', 'mirror', 'chest', 'lamp'],
  Art: ['painting', 'print', 'sculpture', 'sketch'],
  Books: ['novel', 'atlas', 'cookbook', 'dictionary'],
  Cameras: ['camera', 'lens', 'tripod', 'flash'],
  Clothing: ['jacket', 'scarf', 'dress', 'boots'],
  Coins: ['coin', 'medal', 'token', 'sovereign'],
  Collectibles: ['figurine', 'badge', 'poster', 'postcard'],
  Computers: ['laptop', 'keyboard', 'monitor', 'mouse'],
  Electronics: ['radio', 'amplifier', 'speaker', 'headphones'],
  Garden: ['shovel', 'planter', 'bench', 'hose'],
  Jewelry: ['ring', 'necklace', 'bracelet', 'brooch'],
  Music: ['guitar', 'violin', 'vinyl', 'trumpet'],
  Movies: ['dvd', 'projector', 'reel', 'screenplay'],
  Phones: ['phone', 'charger', 'handset', 'pager'],
  Pottery: ['vase', 'bowl', 'teapot', 'jug'],
  Sports: ['racket', 'bicycle', 'helmet', 'skis'],
  Stamps: ['stamp', 'album', 'envelope', 'sheet'],
  Tools: ['hammer', 'drill', 'wrench', 'saw'],
  Toys: ['robot', 'puzzle', 'doll', 'train'],
  Watches: ['watch', 'chronograph', 'strap', 'pocketwatch'],
}
const REGION_NAMES = ['Amsterdam', 'Berlin', 'Cairo', 'Dublin', 'Lisbon', 'Madrid', 'Oslo', 'Paris', 'Rome', 'Vienna']
const ADJECTIVES = ['vintage', 'antique', 'modern', 'rare', 'classic', 'handmade', 'signed', 'mint', 'boxed', 'restored', 'tiny', 'large', 'retro', 'limited', 'original']
const COLOURS = ['red', 'blue', 'green', 'black', 'white', 'silver', 'golden', 'brown', 'orange', 'purple']

/** murmur3's 32-bit finalizer: spreads every input bit over the output. */
function fmix32(h) {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** A small PRNG (mulberry32) seeded by a hash of (seed, stream, index): the index's own sequence. */
function rngFor(stream, index) {
  let state = fmix32(fmix32(fmix32(SEED) ^ stream) ^ index)
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const pick = (rand, list) => list[Math.floor(rand() * list.length)]
const between = (rand, lo, hi) => lo + Math.floor(rand() * (hi - lo + 1))

export const categories = Object.keys(CATEGORY_NOUNS).map((name, i) => ({ id: i + 1, name }))
export const regions = REGION_NAMES.map((name, i) => ({ id: i + 1, name }))

/** Users u1..u2000 with password pw<i> and a home region. */
function makeUser(i) {
  const rand = rngFor(1, i)
  return { name: `u${i}`, password: `pw${i}`, region: between(rand, 1, regions.length) }
}

/** Item i: title from its category's nouns, a seller, a start price and (about half) a buy-now price. */
function makeItem(i) {
  const rand = rngFor(2, i)
  const category = between(rand, 1, categories.length)
  const region = between(rand, 1, regions.length)
  const noun = pick(rand, CATEGORY_NOUNS[categories[category - 1].name])
  const title = `${pick(rand, ADJECTIVES)} ${pick(rand, COLOURS)} ${noun}`
  const seller = `u${between(rand, 1, USER_COUNT)}`
  const start = between(rand, 1, 500)
  const buyNow = rand() < 0.5 ? start * between(rand, 2, 4) : null
  return { id: i, title, category, region, seller, start, buyNow }
}

const users = new Map()
for (let i = 1; i <= USER_COUNT; i++) users.set(`u${i}`, makeUser(i))

/** items[id] for id 1..ITEM_COUNT (items[0] is unused). */
const items = [null]
for (let i = 1; i <= ITEM_COUNT; i++) items.push(makeItem(i))

const byCategory = categories.map(() => [])
const byRegion = regions.map(() => [])
for (let i = 1; i <= ITEM_COUNT; i++) {
  byCategory[items[i].category - 1].push(i)
  byRegion[items[i].region - 1].push(i)
}

export const findUser = (name) => (typeof name === 'string' ? users.get(name) : undefined)
export const isUserName = (name) => users.has(name)
/** A catalogue item (1..5000), or undefined. */
export const catalogueItem = (id) => (Number.isInteger(id) && id >= 1 && id <= ITEM_COUNT ? items[id] : undefined)
export const categoryItems = (id) => byCategory[id - 1]
export const regionItems = (id) => byRegion[id - 1]

/** Catalogue ids whose (lower-case) title contains `word` (case-insensitive), in id order, at most `limit`. */
export function searchTitles(word, limit) {
  const needle = word.toLowerCase()
  const found = []
  for (let i = 1; i <= ITEM_COUNT && found.length < limit; i++) if (items[i].title.includes(needle)) found.push(i)
  return found
}
