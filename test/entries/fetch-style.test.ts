// Fetch-style entries: the default export is a Hono app, an object with fetch(), or a bare
// (request) => Response function. The .ts entry runs with no build step.
import { describeEntry } from './route-checks.js'

describeEntry({ file: 'hono-default.ts', app: 'hono-default', style: 'fetch' })
describeEntry({ file: 'fetch-object.mjs', app: 'fetch-object', style: 'fetch' })
describeEntry({ file: 'fetch-function.mjs', app: 'fetch-function', style: 'fetch' })
describeEntry({ file: 'hono-default.ts', app: 'hono-default', style: 'fetch', isolation: 'process' })
