/**
 * What the verdict must say, shared by the live tests (the fault matrix, the raw faults) and
 * the offline ones that read their recorded results again (verdict.test.ts).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FOLLOW_EXIT } from '../../src/errors.js';
import type { ConfigAgreement, FollowResult, LayerId } from '../../src/follow/index.js';
import type { ConfigHopId } from '../../src/aws/index.js';

/**
 * What the verdict must say for each lab fault: the first failing layer, the cause id (named
 * after what was observed, not after the fault), the direction that broke, and the evidence
 * the cause must name. `partialNode`: only that load-balancer node fails.
 */
export interface Expected { layer: LayerId | null; cause: string | null; direction?: 'request' | 'reply' | null; text: RegExp; partialNode?: string; url?: string }
export const LAB_FAULT_VERDICTS: Record<string, Expected> = {
  'dns-nxdomain': { layer: 'dns', cause: 'dns-nxdomain', direction: 'request', text: /NXDOMAIN/ },
  'dns-down': { layer: 'dns', cause: 'dns-server-down', direction: 'request', text: /not answering/ },
  'dns-drop': { layer: 'dns', cause: 'dns-timeout', direction: 'request', text: /no answer/ },
  'route-blackhole': { layer: 'route', cause: 'route-blackhole', direction: 'request', text: /stops after hop 2/ },
  'route-reject': { layer: 'route', cause: 'route-reject', direction: 'request', text: /!X/ },
  // !H from the trace, or — when the routers rate-limited their unreachables away — the
  // client's immediate "no route to host" (the verdict's fallback for the same cause).
  'no-route': { layer: 'route', cause: 'no-route', direction: 'request', text: /no route .*(!H|!N)|"no route to host"/ },
  'icmp-ratelimit': { layer: null, cause: null, text: /answered 200/ },
  'sg-block': { layer: 'instance', cause: 'not-at-instance', direction: 'request', text: /nothing of the request reached the instance/ },
  'host-firewall': { layer: 'container', cause: 'dropped-by-rule', direction: 'request', text: /reached ens5 \(in\) but was never seen on docker0.*DROP rule `-A DOCKER-USER -i ens5 .*counted \d+/ },
  'dnat-missing': { layer: 'container', cause: 'not-listening', direction: 'request', text: /answered with RST.*no DNAT rule for port 80.*listens on 0\.0\.0\.0:8080/ },
  'app-down': { layer: 'application', cause: 'not-listening', direction: 'request', text: /veth\w+ \(out\) and was answered with RST.*nothing listens on port 8080 in ft-container/ },
  'veth-down': { layer: 'container', cause: 'link-down', direction: 'request', text: /veth\w+ is down/ },
  'app-slow': { layer: 'application', cause: 'no-response', direction: 'request', text: /no response came .*before the client closed/ },
  'app-500': { layer: 'application', cause: 'error-status', direction: null, text: /application answered 500/ },
  'target-deregistered': { layer: 'loadBalancer', cause: 'lb-no-target', direction: 'request', text: /503/ },
  'alb-node-down': { layer: 'loadBalancer', cause: 'lb-refused', direction: 'request', text: /alb-b .*refused the connection/, partialNode: 'alb-b' },
  'nacl-ephemeral': { layer: 'instance', cause: 'lost-after-host', direction: 'reply', text: /answer \(SYN-ACK\) left by ens5 \(out\) and never arrived.*network ACL/ },
  'mtu-blackhole': { layer: 'instance', cause: 'large-packets-lost', direction: 'reply', text: /its response left by ens5 \(out\) and never arrived.*MTU black hole.*segments of \d{4,} bytes were sent again/, url: 'http://seqas.online/page' },
  'reply-drop-host': { layer: 'container', cause: 'dropped-by-rule', direction: 'reply', text: /lost between docker0 \(in\) and ens5 \(out\).*DROP rule `-A FORWARD -i docker0 -o ens5 -j DROP`.*counted \d+/ },
  'no-route-back': { layer: 'container', cause: 'no-route', direction: 'reply', text: /lost between docker0 \(in\) and ens5 \(out\).*ip route get 172\.31\.16\.10.*blackhole/, partialNode: 'alb-b' },
  'asymmetric-route': { layer: 'container', cause: 'routed-elsewhere', direction: 'reply', text: /left by ens6 \(out\) instead of ens5 \(out\).*ip route get 172\.31\.0\.10.*dev ens6/, partialNode: 'alb-a' },
  'rp-filter': { layer: 'container', cause: 'reverse-path-filter', direction: 'request', text: /reached ens5 \(in\) but was never seen on docker0.*rp_filter = 1/, partialNode: 'alb-a' },
  'container-no-route': { layer: 'container', cause: 'no-route', direction: 'reply', text: /nothing ever answered it.*ip route get 172\.31\.\d+\.10` in ft-container.*no route/ },
  'container-arp': { layer: 'container', cause: 'neighbour-failed', direction: 'request', text: /neighbour entry for 172\.17\.0\.2 on docker0 is (FAILED|INCOMPLETE)/ },
  'conntrack-full': { layer: 'container', cause: 'conntrack-drop', direction: 'request', text: /conntrack drop rose by \d+/ },
  'app-wrong-port': { layer: 'application', cause: 'not-listening', direction: 'request', text: /nothing listens on port 8080 in ft-container.*0\.0\.0\.0:8081/ },
  'app-localhost': { layer: 'application', cause: 'not-listening', direction: 'request', text: /port 8080 is listened on only at 127\.0\.0\.1:8080.*, not at 172\.17\.0\.2/ },
  'listener-missing': { layer: 'loadBalancer', cause: 'lb-refused', direction: 'request', text: /refused the connection on port 80/ },
  'lb-subnet-no-route': { layer: 'loadBalancer', cause: 'lb-node-unreachable', direction: 'request', text: /alb-b .*does not answer/, partialNode: 'alb-b' },
};

/**
 * What the verdict must say with the lab's AWS configuration (`--aws-config "$(flowtrace lab
 * aws-config)"`): a fault that is a configuration change is named by its rule (`agree`, the
 * hop that denies, the rule in the cause); any other fault leaves the configuration allowing
 * the path and the cause starts by saying so.
 */
export interface ExpectedConfig { agreement: ConfigAgreement; hop?: ConfigHopId; text: RegExp }
const ALLOWS: ExpectedConfig = { agreement: 'config-allows', text: /^configuration allows it; / };
export const LAB_FAULT_CONFIG: Record<string, ExpectedConfig> = {
  ...Object.fromEntries(Object.keys(LAB_FAULT_VERDICTS).map((f) => [f, ALLOWS])),
  'icmp-ratelimit': { agreement: 'both-pass', text: /answered 200/ },
  'sg-block': { agreement: 'agree', hop: 'target-sg', text: /nothing of the request reached the instance.* — and the configuration names it: .*security group sg-\w+ has no inbound rule for tcp\/80 from 172\.31\.\d+\.10 or its group sg-\w+/ },
  'nacl-ephemeral': { agreement: 'agree', hop: 'target-nacl', text: /left by ens5 \(out\) and never arrived.* — and the configuration names it: .*network ACL acl-\w+ \(subnet-\w+\): rule 90 denies outbound tcp 1024-65535 to 172\.31\.\d+\.10/ },
  'target-deregistered': { agreement: 'agree', hop: 'target-group', text: /503.* — and the configuration names it: .*target group seqas-web has no registered target/ },
  'listener-missing': { agreement: 'agree', hop: 'listener', text: /refused the connection on port 80.* — and the configuration names it: .*seqas-alb has no listener on port 80 \(it listens on HTTPS:443\)/ },
  'lb-subnet-no-route': { agreement: 'agree', hop: 'lb-route-client', text: /alb-b .*does not answer.* — and the configuration names it: .*route table rtb-\w+ \(subnet-\w+\) has no route to 10\.10\.1\.2/ },
};

/** Why a verdict does not read the configuration as expected, or null when it does. */
export function configMatches(want: ExpectedConfig, result: FollowResult | null): string | null {
  const v = result?.verdict;
  if (!v) return 'no result';
  if (!result.aws || result.aws.status !== 'ok') return `no configuration read: ${result.aws?.error ?? 'no aws evidence'}`;
  const problems: string[] = [];
  if (v.config?.agreement !== want.agreement) problems.push(`agreement ${v.config?.agreement} ≠ ${want.agreement}`);
  if (want.hop && v.config?.hop?.hop !== want.hop) problems.push(`hop ${v.config?.hop?.hop} ≠ ${want.hop}`);
  if (!want.text.test(`${v.cause ?? v.headline}`)) problems.push(`cause does not match ${want.text}`);
  return problems.length ? problems.join('; ') : null;
}

/** Why a verdict does not match what is expected, or null when it does. */
export function verdictMatches(want: Expected, result: FollowResult | null, exitCode: number | null): string | null {
  const v = result?.verdict;
  if (!v) return 'no result';
  const problems: string[] = [];
  if (v.firstFailing !== want.layer) problems.push(`layer ${v.firstFailing} ≠ ${want.layer}`);
  if (v.causeId !== want.cause) problems.push(`cause ${v.causeId} ≠ ${want.cause}`);
  if (want.direction !== undefined && v.direction !== want.direction) problems.push(`direction ${v.direction} ≠ ${want.direction}`);
  if (!want.text.test(`${v.cause ?? ''} ${v.headline}`)) problems.push(`text does not match ${want.text}`);
  const partialOk = want.partialNode ? v.partial?.failing.length === 1 && v.partial.failing[0]!.node === want.partialNode : v.partial === null;
  if (!partialOk) problems.push(`partial ${JSON.stringify(v.partial?.failing.map((f) => f.node) ?? null)} ≠ ${want.partialNode ?? 'none'}`);
  const wantCode = want.layer ? FOLLOW_EXIT[want.layer] : 0;
  if (exitCode !== null && exitCode !== wantCode) problems.push(`exit ${exitCode} ≠ ${wantCode}`);
  if (v.exitCode !== wantCode) problems.push(`verdict exit code ${v.exitCode} ≠ ${wantCode}`);
  return problems.length ? problems.join('; ') : null;
}

const dataDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'follow');

/**
 * With UPDATE_GOLDEN=1, a live run saves its whole result (client evidence, the server's
 * reading: flow's analysis and host facts) as test/data/follow/NAME.json, compact: the
 * offline tests read it again through serverEvidence and decideVerdict.
 */
export function saveRecorded(name: string, result: FollowResult | null): void {
  if (process.env.UPDATE_GOLDEN !== '1' || !result) return;
  writeFileSync(path.join(dataDir, `${name}.json`), JSON.stringify(result) + '\n');
}

export const RECORDED_DIR = dataDir;
