export { Pool, type PoolHooks } from './pool.js'
export { isTakenBack, type Instance, type InstanceLoss, type LossReason } from './instance.js'
export { shapeKey, type InstanceShape, type SacrificialNeed } from './sacrificial-set.js'
