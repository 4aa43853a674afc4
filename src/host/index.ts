/** The host room runs inside instances; the rest of crashless only needs to know where. */
export const workerEntryUrl = new URL('./worker-main.js', import.meta.url)
