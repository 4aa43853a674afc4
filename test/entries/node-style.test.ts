// Node-listener entries: an Express 5 app as the ES default export, and a CommonJS module
// whose module.exports is a (req, res) listener. Neither calls listen().
import { describeEntry } from './route-checks.js'

describeEntry({ file: 'express-default.mjs', app: 'express-default', style: 'node' })
describeEntry({ file: 'listener-default.cjs', app: 'listener-default', style: 'node' })
describeEntry({ file: 'koa-default.mjs', app: 'koa-default', style: 'node' })
describeEntry({ file: 'express-default.mjs', app: 'express-default', style: 'node', isolation: 'process' })
