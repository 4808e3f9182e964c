/**
 * aws/: the AWS configuration as AWS gives it (the describe outputs, typed with the SDK v3's
 * models), read from the AWS CLI's JSON files or asked of the API, and the static evaluation
 * of a request's path through it, hop by hop (the public surface).
 */
export * from './types.js';
export { AWS_COMMANDS, AWS_IAM_ACTIONS, readAwsConfigDir, writeAwsConfigDir, snapshotFiles, emptySnapshot, commandOf, type AwsCommand, type ReadAwsConfigResult } from './files.js';
export { fetchAwsConfig, type AwsApiOptions } from './api.js';
export { loadAwsConfig, describeParts, type AwsConfigSource, type LoadedAwsConfig } from './source.js';
export { evaluatePaths } from './evaluate.js';
export { evaluateGroups, evaluateAcl, evaluateRoute, EPHEMERAL_PORTS, type Reading } from './network.js';
export { chooseLoadBalancer, loadBalancerNodes, wildcardMatch, listenerOfRule, loadBalancerKey } from './elb.js';
export { scopeSnapshot } from './scope.js';
export { matchCidr, isPrivateIpv4 } from './cidr.js';
export { hopText, pathText, ruleText, nodeLabel, shortArn, HOP_TITLES } from './words.js';
