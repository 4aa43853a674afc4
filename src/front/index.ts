export { createFront, type FrontTarget } from './create-front.js'
export { readBody, type BodyResult, type BodyLimits } from './read-body.js'
export { BodyBudget, type BodyLease } from './body-budget.js'
