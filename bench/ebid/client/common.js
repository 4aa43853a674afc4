// Steps shared by several actions: read the catalogue, log in, read an item with all its checks.
import { check, checkHome, checkItemKnown, checkItemShape } from './checks.js'
import { randInt } from './markov.js'
import { learnTitle, loggedIn, noteBuyNow } from './user.js'

export const CATALOGUE_ITEMS = 5000

/** GET / with its checks; the catalogue is fixed for a run, so it must not change between reads. */
export async function readHome(ctx, user) {
  const { body } = await ctx.request(user, { path: '/' })
  checkHome(body)
  const catalog = { categories: body.categories, regions: body.regions }
  if (user.catalog) check(JSON.stringify(catalog) === JSON.stringify(user.catalog), 'catalogue changed')
  user.catalog = catalog
  return catalog
}

export async function ensureCatalog(ctx, user) {
  return user.catalog ?? readHome(ctx, user)
}

/** POST /users/login as the user's own account; the answer names it and sets the `ebid` cookie. */
export async function login(ctx, user) {
  user.jar.clear()
  const { body } = await ctx.request(user, { method: 'POST', path: '/users/login', json: { user: user.name, password: user.password }, withCookie: false })
  check(body?.user === user.name, 'bad login', `user ${body?.user}`)
  check(loggedIn(user), 'login without cookie')
}

/** Actions that need a session log in first when the user has none (RUBiS's "put bid" page asks). */
export async function ensureLogin(ctx, user) {
  if (!loggedIn(user)) await login(ctx, user)
}

/** GET /items/:id with shape, knowledge and shared-fact checks; remembers it as the current item. */
export async function readItem(ctx, user, id) {
  const res = await ctx.request(user, { path: `/items/${id}` })
  const item = res.body
  checkItemShape(item, id)
  checkItemKnown(ctx, user, item, res)
  // Only catalogue titles: searches cover the catalogue, not items put up for sale.
  if (id <= CATALOGUE_ITEMS) learnTitle(user, item.title)
  noteBuyNow(user, item)
  user.current = item
  return item
}

/** An item id to act on: usually the current item, else a random catalogue item. */
export function currentOrRandom(user) {
  return user.current && user.rng() < 0.9 ? user.current.id : randInt(user.rng, 1, CATALOGUE_ITEMS)
}
