/** The lab: a replica of the seed's AWS architecture in network namespaces (public surface). */
export { LAB, LAB_NODES, LAB_PREFIX, CONTAINER_VETH, ROUTER_NODES, nsName, isLabNode, dockerIptablesRules, type DockerPublish, type LabNode } from './topology.js';
export { labUp, labDown, labStatus, labExec, spawnInLab, injectFault, healFault, type LabStatus, type LabServiceStatus, type LabNodeStatus, type LabUpOptions, type LabExecOptions, type LabSessionOptions } from './lab.js';
export { LAB_FAULTS, isLabFault, type LabFault, type LabFaultName } from './faults.js';
export { startAlb, forwardedTraceId, forwardedFor, newAmznTraceRoot, albErrorPage, type AlbConfig, type AlbNode, type TargetHealth } from './alb.js';
export { createApp, LAB_PAGE, type AppOptions, type AppSeen } from './app.js';
export { readAccessLog, parseAccessLogLine, formatAccessLogLine, accessLogTime, type AccessLogRecord } from './access-log.js';
export type { RunResult } from './system.js';
export { labAwsSnapshot, CONFIG_FAULTS, LAB_AWS_IDS, LAB_LB_DNS_NAME, type LabAwsOptions } from './aws-config.js';
/** The live owner of the lab session when it is neither this process nor an ancestor (then labUp/fault/heal wait for it). */
export { sessionHeldByOther } from './state.js';
export { LAB_SSH } from './ssh.js';
