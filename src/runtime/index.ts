export { createRuntime, type Runtime } from './create-runtime.js'
export { serveUnderKeeper } from './keeper-link.js'
