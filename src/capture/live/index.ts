/**
 * capture/live: live capture with tcpdump as the engine (the public surface; engineer A's
 * src/capture/index.ts re-exports it).
 */
export { startCapture, LIVE_DEFAULTS } from './session.js';
export { KEPT_PACKET_OVERHEAD_BYTES } from './kept.js';
export type { LiveCapture, LiveCaptureOptions, LiveCaptureResult, LivePacket, LiveDirection, LiveState, StopReason } from './session.js';
export { tcpdumpEngine, tcpdumpArgv, parseTcpdumpStats, classifyTcpdumpFailure, TCPDUMP_DEFAULTS } from './tcpdump.js';
export type { CaptureEngine, EngineProcess, EngineSpec, EngineExit, KernelStats } from './tcpdump.js';
export { parseDnatRules, translatePort, followNatInFilter, readNatRules, ruleWords } from './nat.js';
export type { DnatRule, PortTranslation, FollowedFilter } from './nat.js';
export { readLinks, parseIpLinkJson, ifmapOf } from './interfaces.js';
export type { LinkInfo } from './interfaces.js';
export { attributeVeths, describeAttribution, procNamespaceSource, commandNamespaceSource, parseLsnsNet, parseNetnsListId, withNamedNamespaces } from './attribution.js';
export type { VethAttribution, NamespaceProcess, NamespaceEntry, NamespaceSource } from './attribution.js';
export { listDockerContainers, parseDockerInspect, DOCKER_INSPECT_FORMAT, DOCKER_SOCKET } from './docker.js';
export type { DockerContainer } from './docker.js';
export { livePcapngBytes } from './pcapng.js';
export { requireCaptureTools, findOnPath, CAPTURE_PROGRAM_PACKAGE, inNamespace, systemRunner, RUN_TIMEOUT_MS } from './programs.js';
export type { ProcessRunner, ProgramResult, PipedChild, StartOptions as ProcessStartOptions } from './programs.js';
