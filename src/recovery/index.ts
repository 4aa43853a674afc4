export { actionName, unreachable, type Action, type ActionOf, type AnswerWhy } from './actions.js'
export {
  adoptable,
  decideCrash,
  decideDeadline,
  decideFailedRun,
  decideLost,
  decideSuccess,
  freshRungOpen,
  limitsOf,
  nextRung,
  FRESH_GROUP_MAX,
  type Blame,
  type DeadlineFacts,
  type FailedRun,
  type History,
  type LadderLimits,
  type ProbeRun,
  type SucceededRun,
  type TrialState,
} from './decide.js'
export { mayProbe, screen, type ScreenFacts } from './screen.js'
export { decideBlame, decideEvacuee, decideVerdict, type Evacuee, type Verdict, type VerdictFacts } from './suspicion.js'
export { decideHealth, decideOutlier, type AnswerFacts, type HealthFacts, type OutlierPolicy, type OutlierVerdict } from './outliers.js'
export { decideRestart, isUnexplainedLoss, type Intensity, type RestartAction, type RestartFacts } from './restarts.js'
export { nextSearchStep, suspectsOf, type AnsweredRequest, type RunOutcome, type SearchStep, type SuspectTrial } from './corrupter.js'
