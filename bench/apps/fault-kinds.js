// The fault kinds the sample apps inject, shared by faults-app.js (/fault/<kind>) and
// poison-app.js (/poison/<kind>), so both benches break the app in exactly the same ways.
// Each function is called inside the request handler and never answers the request.

function recurse(n) {
  return recurse(n + 1) + 1
}

export const faultKinds = {
  throw() {
    throw new Error('fault: sync throw in handler')
  },
  'async-throw'() {
    setTimeout(() => {
      throw new Error('fault: throw in setTimeout callback')
    }, 1)
  },
  reject() {
    Promise.reject(new Error('fault: unhandled rejection'))
  },
  exit() {
    process.exit(1)
  },
  loop() {
    // eslint-disable-next-line no-constant-condition
    for (let i = 0; ; i++) if (i === -1) break
  },
  oom() {
    // 8 MB packed arrays, all retained: a 512 MiB heap is exhausted in well under a second, the
    // poison bench's 128 MiB after ~16 of them (V8's last-ditch GCs near the cap then take up to
    // about a second before the heap is declared exhausted).
    const keep = []
    for (let i = 0; ; i++) keep.push(new Array(1 << 20).fill(i))
  },
  stack() {
    recurse(0)
  },
  hang() {
    // never respond: the request just stays open
  },
}
