// Tiny argv parser: --name value, --name=value, --flag (true). Unknown options are an error.
export function parseArgs(argv, spec) {
  const out = {}
  for (const [name, def] of Object.entries(spec)) out[name] = def.default
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) throw new Error(`unexpected argument: ${arg}`)
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2)
    const def = spec[name]
    if (def === undefined) throw new Error(`unknown option --${name}; known: ${Object.keys(spec).map((n) => '--' + n).join(' ')}`)
    if (def.type === 'boolean') {
      out[name] = value === undefined ? true : value !== 'false'
      continue
    }
    if (value === undefined) value = argv[++i]
    if (value === undefined) throw new Error(`--${name} needs a value`)
    if (def.type === 'number') {
      const n = Number(value)
      if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${value}`)
      out[name] = n
    } else if (def.type === 'list') {
      out[name] = value.split(',').map((s) => s.trim()).filter(Boolean)
    } else {
      out[name] = value
    }
  }
  return out
}

/** Checks that every element of a list option is one of the allowed values. */
export function checkList(name, values, allowed) {
  for (const v of values) {
    if (!allowed.includes(v)) throw new Error(`--${name}: unknown value ${v}; allowed: ${allowed.join(',')}`)
  }
  return values
}
