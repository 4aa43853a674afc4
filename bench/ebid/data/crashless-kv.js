// The `crashless` backend: crashless's durable store, bound to the current request. Reads go to
// the runtime; writes are buffered in the request's transaction and commit atomically when the
// response goes out (never for a 5xx or a crashed request). update() is a plain get + set: the
// commit's optimistic concurrency check re-runs the request if the key changed meanwhile.
export async function openCrashlessKv() {
  const { store } = await import('crashless')
  return {
    name: 'crashless',
    get: (key) => store.get(key),
    getMany: (keys) => store.getMany(keys),
    set: (key, value) => store.set(key, value),
    delete: (key) => store.delete(key),
    list: (prefix = '', options = {}) => store.list(prefix, options),
    async update(key, fn) {
      const next = fn(await store.get(key))
      if (next !== undefined) await store.set(key, next)
      return next
    },
  }
}
