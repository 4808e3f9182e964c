/** follow/: the whole walk for one URL and its verdict. The public surface. */
export { follow, parseFollowUrl, traceRoot, chosenServer, DEFAULT_REQUEST_TIMEOUT_MS } from './follow.js';
export type { FollowProbes, FollowOptions, RequestInput, ServerSession } from './follow.js';
export { realProbes, dnsEvidence, routeEvidence, requestEvidence } from './probes.js';
export type { RealProbeOptions } from './probes.js';
export { decideVerdict, LAYER_TITLES, SLOW_APPLICATION_MS, fmtMs, hopLine, lbMade, requestOnServers } from './verdict.js';
export { serverEvidence, serversEvidence, sentRequests, readingOf } from './server.js';
export type { ServerReading, SentRequest, TargetHints } from './server.js';
export { loadBalancerEvidence, accessLogEvidence, targetHints, parseTargetHealth, sameZone, type TargetHealthEntry, type TargetName } from './lb.js';
export { breakText, causeText, factText, nextCheck, nodeText, accessLogLine, targetText, lbNotes, configCell, configHopText, configNextCheck, joinedCauseText, rowConfigText } from './wording.js';
export { configEvidence, failedConfig, joinConfig, rowConfig, hopLayer, type PacketCause, type PacketEvidence } from './config.js';
export * from './types.js';
