export { createFront, type FrontTarget } from './create-front.js'
export { readBody, type BodyResult } from './read-body.js'
