// The route half of smoke.js: a tiny cookie-keeping client and one pass over every route of
// API.md, checking the bodies. Also usable against any running eBid (`smoke.js --origin URL`).

/** makeClient(origin)(user) -> a client acting as `user` (null: anonymous), keeping its cookie. */
export function makeClient(origin) {
  return (user) => {
    let cookie = null
    const request = async (method, path, body, timeoutMs = 2_000) => {
      const headers = { 'idempotency-key': crypto.randomUUID() }
      if (cookie) headers.cookie = cookie
      if (body !== undefined) headers['content-type'] = 'application/json'
      try {
        const res = await fetch(origin + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) })
        const set = res.headers.get('set-cookie')
        if (set) cookie = /^ebid=[0-9a-f]+/.exec(set)?.[0] ?? null
        const text = await res.text()
        let json
        try {
          json = JSON.parse(text)
        } catch {
          json = { text }
        }
        return { status: res.status, body: json }
      } catch (err) {
        return { status: 0, body: { error: String(err?.message ?? err) } }
      }
    }
    return {
      user,
      get: (path, timeoutMs) => request('GET', path, undefined, timeoutMs),
      post: (path, body, timeoutMs) => request('POST', path, body ?? {}, timeoutMs),
      login: (password = `pw${user.slice(1)}`) => request('POST', '/users/login', { user, password }),
      hasCookie: () => cookie !== null,
    }
  }
}

const isSummary = (it) => Number.isInteger(it.id) && typeof it.title === 'string' && typeof it.price === 'number'

/** Every route once; `check(name, ok, detail)` records each result. */
export async function checkRoutes(client, check) {
  const anon = client(null)
  const me = client('u17')

  const home = await anon.get('/')
  check('GET / lists 20 categories and 10 regions', home.status === 200 && home.body.service === 'ebid' && home.body.categories?.length === 20 && home.body.regions?.length === 10)
  const health = await anon.get('/health')
  check('GET /health', health.status === 200 && health.body.ok === true)

  const wrong = await me.login('nope')
  const anonMe = await anon.get('/users/me')
  const login = await me.login()
  check('POST /users/login: 401 on a wrong password, then { user } and a cookie', wrong.status === 401 && login.status === 200 && login.body.user === 'u17' && me.hasCookie(), `${wrong.status} ${login.status}`)
  check('GET /users/me: 401 when not logged in', anonMe.status === 401)

  const cat = await anon.get('/items/categories/3?page=2')
  const firstOfCat = cat.body.items?.[0] && (await anon.get(`/items/${cat.body.items[0].id}`)).body
  check('GET /items/categories/3?page=2: 20 items of category 3', cat.status === 200 && cat.body.category === 3 && cat.body.items.length === 20 && cat.body.items.every(isSummary) && firstOfCat?.category === 3)
  const reg = await anon.get('/items/regions/2')
  const firstOfReg = reg.body.items?.[0] && (await anon.get(`/items/${reg.body.items[0].id}`)).body
  check('GET /items/regions/2: 20 items of region 2', reg.status === 200 && reg.body.region === 2 && reg.body.items.length === 20 && firstOfReg?.region === 2)
  const search = await anon.get('/items/search?q=Blue')
  check('GET /items/search?q=Blue: up to 20 matching titles', search.status === 200 && search.body.q === 'Blue' && search.body.items.length === 20 && search.body.items.every((it) => it.title.includes('blue')))
  const missing = await anon.get('/items/999999')
  check('GET /items/999999: 404 with { error }', missing.status === 404 && typeof missing.body.error === 'string')

  // An item with a buy-now price: bid on it, then buy it.
  let item = null
  for (const { id } of cat.body.items ?? []) {
    const view = (await anon.get(`/items/${id}`)).body
    if (view.buyNow !== null && !view.sold) {
      item = view
      break
    }
  }
  check('GET /items/:id: an item with a buy-now price', item !== null && typeof item.title === 'string' && typeof item.price === 'number', JSON.stringify(item))
  if (!item) return
  const amount = item.price + 1
  const bid = await me.post(`/bids/${item.id}`, { amount })
  const low = await me.post(`/bids/${item.id}`, { amount })
  const after = (await anon.get(`/items/${item.id}`)).body
  const history = await anon.get(`/bids/${item.id}`)
  check('POST /bids/:id: { item, price }; the same amount again is 409', bid.status === 200 && bid.body.item === item.id && bid.body.price === amount && low.status === 409, `${bid.status} ${low.status}`)
  check('GET /items/:id after the bid: price and bid count', after.price === amount && after.bids === item.bids + 1)
  check('GET /bids/:id: newest bid first', history.status === 200 && history.body.item === item.id && history.body.bids[0]?.user === 'u17' && history.body.bids[0]?.amount === amount)

  const buy = await me.post(`/bids/${item.id}/buy-now`)
  const again = await me.post(`/bids/${item.id}/buy-now`)
  const lateBid = await me.post(`/bids/${item.id}`, { amount: amount + 10_000 })
  const sold = (await anon.get(`/items/${item.id}`)).body
  check('POST /bids/:id/buy-now: { item, sold, buyer }; then 409 for buy-now and bids', buy.status === 200 && buy.body.sold === true && buy.body.buyer === 'u17' && again.status === 409 && lateBid.status === 409, `${buy.status} ${again.status} ${lateBid.status}`)
  check('GET /items/:id after buy-now: sold, price = buy-now price, buyNow null', sold.sold === true && sold.price === item.buyNow && sold.buyNow === null)

  const sell = await me.post('/items', { title: 'smoke test kettle', category: 4, region: 5, price: 12 })
  const mine = sell.body.id && (await anon.get(`/items/${sell.body.id}`)).body
  const anonSell = await anon.post('/items', { title: 'x', category: 1, region: 1, price: 1 })
  check('POST /items: { id > 5000 }; 401 when not logged in', sell.status === 200 && sell.body.id > 5000 && mine?.seller === 'u17' && mine?.category === 4 && mine?.price === 12 && anonSell.status === 401, JSON.stringify(sell.body))

  const about = await me.get('/users/me')
  const b = about.body
  check('GET /users/me: my bid, my sale and my purchase', about.status === 200 && b.user === 'u17' && b.bids[0]?.item === item.id && b.bids[0]?.amount === amount && b.selling[0] === sell.body.id && b.bought[0] === item.id, JSON.stringify(b))

  const logout = await me.post('/users/logout')
  const gone = await me.get('/users/me')
  check('POST /users/logout: { ok }, then /users/me is 401', logout.status === 200 && logout.body.ok === true && gone.status === 401)
}
