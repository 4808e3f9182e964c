/** follow/: the whole walk for one URL and its verdict. The public surface. */
export { follow, parseFollowUrl, traceRoot, DEFAULT_REQUEST_TIMEOUT_MS } from './follow.js';
export type { FollowProbes, FollowOptions, RequestInput, ServerSession } from './follow.js';
export { realProbes, dnsEvidence, routeEvidence, requestEvidence } from './probes.js';
export type { RealProbeOptions } from './probes.js';
export { decideVerdict, LAYER_TITLES, SLOW_APPLICATION_MS, fmtMs, hopLine, lbMade } from './verdict.js';
export { serverEvidence, sentRequests, readingOf } from './server.js';
export type { ServerReading, SentRequest } from './server.js';
export { breakText, causeText, factText, nextCheck, nodeText, configCell, configHopText, configNextCheck, joinedCauseText, rowConfigText } from './wording.js';
export { configEvidence, failedConfig, joinConfig, rowConfig, hopLayer, type PacketCause, type PacketEvidence } from './config.js';
export * from './types.js';
