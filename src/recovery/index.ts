export { decideLost, nextRung, type Blame, type LadderLimits, type LostAction, type LostRequest, type RungAction, type TrialState } from './decide.js'
