// One async function per chain state: the requests of that user action, up to its commit point,
// with the checks of every answer. An action succeeds when it returns, fails when it throws
// ActionFailed (a request failed or an answer was wrong), and is cut when it throws Cut.
// `ctx` = { request, facts }; helpers shared by the action files are here.
import { browseActions } from './actions-browse.js'
import { accountActions } from './actions-account.js'
import { tradeActions } from './actions-trade.js'
import { STATES } from './markov.js'

export const ACTIONS = { ...browseActions, ...accountActions, ...tradeActions }

for (const s of STATES) if (typeof ACTIONS[s] !== 'function') throw new Error(`no action for chain state ${s}`)
