export { createRuntime, type Runtime } from './create-runtime.js'
