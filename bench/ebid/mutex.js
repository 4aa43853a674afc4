// A minimal in-process mutex. Each component has one that its requests pass through (take and
// release at once), so a holder that never releases (the `deadlock` fault) blocks the component.
export class Mutex {
  #held = false
  #waiters = []

  /** Resolves with a release function once the mutex is ours. */
  lock() {
    if (!this.#held) {
      this.#held = true
      return Promise.resolve(() => this.#release())
    }
    return new Promise((resolve) => this.#waiters.push(resolve)).then(() => () => this.#release())
  }

  /** Calls `then` once the mutex is free (taking and releasing it); synchronously when it is free. */
  pass(then) {
    if (!this.#held) return then()
    this.lock().then((release) => {
      release()
      then()
    })
  }

  #release() {
    const next = this.#waiters.shift()
    if (next) next()
    else this.#held = false
  }
}
