export { Dispatcher } from './dispatcher.js'
export { UpgradeDispatcher } from './upgrade-dispatcher.js'
export { isReplayable } from './replayable.js'
export { respondError } from './respond-error.js'
