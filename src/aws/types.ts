/**
 * The AWS configuration as AWS gives it — the outputs of the read-only describe calls, typed
 * with the AWS SDK v3's own models (type imports only: the SDK is loaded only when `--aws`
 * asks the API) — and the static evaluation of one request's path through it.
 *
 * Plain, serialisable data. Decisions are ids and typed facts; the words are ./words.ts's.
 */
import type {
  Instance, NetworkAcl, NetworkInterface, PrefixListEntry, RouteTable, SecurityGroup, Subnet,
} from '@aws-sdk/client-ec2';
import type {
  Listener, LoadBalancer, Rule, TargetGroup, TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';

export type {
  Instance, NetworkAcl, NetworkInterface, PrefixListEntry, RouteTable, SecurityGroup, Subnet,
  Listener, LoadBalancer, Rule, TargetGroup, TargetHealthDescription,
};

/** The targets' health of one target group (`describe-target-health` answers for one group at a time). */
export interface TargetHealthSet {
  targetGroupArn: string;
  descriptions: TargetHealthDescription[];
}

/** The entries of one managed prefix list (`get-managed-prefix-list-entries`, one list at a time). */
export interface PrefixListEntries {
  prefixListId: string;
  entries: PrefixListEntry[];
}

/**
 * What was read of an account's configuration. Each list is null when its describe output
 * was not read (a hop that needs it is then "not determinable", saying which output).
 */
export interface AwsSnapshot {
  loadBalancers: LoadBalancer[] | null;
  listeners: Listener[] | null;
  rules: Rule[] | null;
  targetGroups: TargetGroup[] | null;
  targetHealth: TargetHealthSet[] | null;
  instances: Instance[] | null;
  securityGroups: SecurityGroup[] | null;
  networkAcls: NetworkAcl[] | null;
  routeTables: RouteTable[] | null;
  subnets: Subnet[] | null;
  networkInterfaces: NetworkInterface[] | null;
  prefixLists: PrefixListEntries[] | null;
}

export type SnapshotPart = keyof AwsSnapshot;

// ── the evaluation ─────────────────────────────────────────────────────────────────────

/** One hop's reading: allowed, denied (by a named rule, or by the absence of one), or not determinable. */
export type HopStatus = 'allowed' | 'denied' | 'unknown';

/**
 * The hops of a request's path through the configuration, in the order it crosses them
 * (Reachability Analyzer's components for an ALB in front of an instance):
 *  - `lb-nacl-client`: the network ACL of the load balancer node's subnet, inbound from the
 *    client on the listener port and outbound back to it on the ephemeral ports (stateless);
 *  - `lb-sg-in`: the load balancer's security groups, inbound from the client on the listener port;
 *  - `lb-route-client`: the node's subnet's route table back to the client (an internet gateway
 *    for an internet-facing load balancer);
 *  - `listener`: a listener on the request's port and protocol;
 *  - `rule`: the listener rule that routes the request (priority order, default last);
 *  - `target-group`: the group the rule forwards to, its registered targets and their state;
 *  - `lb-sg-out`: the load balancer's security groups, outbound to the target's port;
 *  - `lb-route-target` / `target-route`: the route tables of both subnets, each to the other's address;
 *  - `lb-nacl-target` / `target-nacl`: both subnets' network ACLs, the target port one way and
 *    the ephemeral ports back (only when the two are in different subnets);
 *  - `target-sg`: the target ENI's security groups, inbound on the target port from the load
 *    balancer (its groups, its address, a prefix list).
 */
export const CONFIG_HOPS = [
  'lb-nacl-client', 'lb-sg-in', 'lb-route-client', 'listener', 'rule', 'target-group',
  'lb-sg-out', 'lb-route-target', 'lb-nacl-target', 'target-nacl', 'target-sg', 'target-route',
] as const;
export type ConfigHopId = (typeof CONFIG_HOPS)[number];

/** Hops between the client and the load balancer, and the load balancer's own routing. */
export const LB_HOPS: readonly ConfigHopId[] = ['lb-nacl-client', 'lb-sg-in', 'lb-route-client', 'listener', 'rule', 'target-group'];
/** Hops between the load balancer and the target. */
export const TARGET_HOPS: readonly ConfigHopId[] = ['lb-sg-out', 'lb-route-target', 'lb-nacl-target', 'target-nacl', 'target-sg', 'target-route'];

/**
 * Why a hop reads as it does (stable ids; ./words.ts says them):
 * allowed — `sg-allows`, `nacl-allows`, `same-subnet` (a NACL is not crossed), `route-local`,
 *   `route-gateway`, `listener-found`, `rule-forward`, `rule-redirect`, `rule-fixed-ok`, `targets-routable`;
 * denied — `sg-no-rule`, `nacl-deny` (a deny entry), `nacl-default-deny` (no entry matched:
 *   the `*` rule), `route-missing`, `route-blackhole`, `route-not-igw`, `no-listener`,
 *   `listener-protocol`, `rule-fixed-response`, `no-targets`, `targets-not-routable`;
 * not determinable — `not-read` (a describe output is missing), `not-found` (a resource
 *   named by another is not in the outputs), `prefix-list-unread`, `client-unknown`,
 *   `condition-unknown` (a rule condition the request's known facts cannot decide),
 *   `route-appliance` (routed through an appliance or peering), `ipv6`, `rule-authenticate`,
 *   `load-balancer-unknown`, `target-unknown`.
 */
export type HopReason =
  | 'sg-allows' | 'nacl-allows' | 'same-subnet' | 'route-local' | 'route-gateway' | 'listener-found' | 'rule-forward' | 'rule-redirect' | 'rule-fixed-ok' | 'targets-routable'
  | 'sg-no-rule' | 'nacl-deny' | 'nacl-default-deny' | 'route-missing' | 'route-blackhole' | 'route-not-igw' | 'no-listener' | 'listener-protocol' | 'rule-fixed-response' | 'no-targets' | 'targets-not-routable'
  | 'not-read' | 'not-found' | 'prefix-list-unread' | 'client-unknown' | 'condition-unknown' | 'route-appliance' | 'ipv6' | 'rule-authenticate' | 'load-balancer-unknown' | 'target-unknown';

/** An address a check is made for: a known one, or "some public address" (a client behind NAT). */
export type AddressSpec = { kind: 'address'; address: string } | { kind: 'any-public' };

/** The rule that decided a hop, as AWS names it. */
export type ConfigRule =
  | { kind: 'sg-permission'; groupId: string; egress: boolean; protocol: string; fromPort: number | null; toPort: number | null; source: RuleSource }
  | { kind: 'nacl-entry'; aclId: string; ruleNumber: number; egress: boolean; action: 'allow' | 'deny'; protocol: string; cidr: string; fromPort: number | null; toPort: number | null }
  | { kind: 'nacl-default'; aclId: string; egress: boolean }
  | { kind: 'route'; routeTableId: string; destination: string; target: string; state: string | null }
  | { kind: 'listener'; listenerArn: string; protocol: string; port: number }
  | { kind: 'listener-rule'; ruleArn: string; priority: string; action: string; statusCode: string | null; targetGroupArns: string[] };

/** Where a security group rule's traffic may come from (or go to). */
export type RuleSource =
  | { kind: 'cidr'; cidr: string }
  | { kind: 'group'; groupId: string }
  | { kind: 'prefix-list'; prefixListId: string; cidr: string | null };

/** One registered target as the target group sees it. */
export interface TargetState {
  id: string;
  port: number;
  /** healthy | initial | unhealthy | unused | draining | unavailable | unhealthy.draining, as AWS says it. */
  state: string | null;
  /** e.g. Target.NotRegistered, Target.NotInUse, Target.FailedHealthChecks. */
  reason: string | null;
  /** The load balancer sends it requests (healthy, initial, or every target unhealthy: it fails open). */
  routable: boolean;
}

/** Typed facts behind a hop's reading (the words are ./words.ts's). */
export type ConfigFact =
  | { kind: 'missing-output'; command: string }
  | { kind: 'missing-resource'; resource: string; command: string }
  | { kind: 'groups'; groupIds: string[]; egress: boolean; protocol: 'tcp'; port: number; peer: AddressSpec; peerGroups: string[] }
  | { kind: 'nacl'; aclId: string; subnetId: string; egress: boolean; protocol: 'tcp'; fromPort: number; toPort: number; peer: AddressSpec; deniedPorts: { from: number; to: number } | null }
  | { kind: 'route-lookup'; routeTableId: string; subnetId: string; destination: AddressSpec; main: boolean }
  | { kind: 'listeners'; loadBalancer: string; ports: Array<{ protocol: string; port: number }>; wanted: { protocol: string; port: number } }
  | { kind: 'condition'; ruleArn: string; priority: string; field: string }
  | { kind: 'targets'; targetGroupArn: string; targetGroupName: string | null; targets: TargetState[] }
  | { kind: 'prefix-list'; prefixListId: string }
  | { kind: 'client'; seen: string | null };

export interface ConfigHop {
  hop: ConfigHopId;
  status: HopStatus;
  reason: HopReason;
  /** The resource evaluated: sg-…, acl-…, rtb-…, a listener or target group ARN; null when none was found. */
  resource: string | null;
  /** The rule that decided (null: decided by the absence of a rule, or not determinable). */
  rule: ConfigRule | null;
  /** request: towards the target; reply: back (stateless ACLs and routes are read both ways). */
  way: 'request' | 'reply';
  facts: ConfigFact[];
}

/** The load balancer the request goes to, and which of its nodes (one per zone/subnet). */
export interface ConfigNode {
  loadBalancerArn: string;
  loadBalancerName: string | null;
  scheme: string | null;
  /** The node's network interface (`ELB app/NAME/ID`), its subnet and zone, its addresses. */
  networkInterfaceId: string | null;
  subnetId: string | null;
  zone: string | null;
  privateAddress: string | null;
  publicAddress: string | null;
}

/** One target behind the load balancer and the hops between them. */
export interface ConfigTargetPath {
  /** i-… or an address (an `ip` target group). */
  targetId: string;
  address: string | null;
  port: number;
  networkInterfaceId: string | null;
  subnetId: string | null;
  hops: ConfigHop[];
  status: HopStatus;
}

/** The configuration's reading of one request's path (one per load-balancer node asked). */
export interface ConfigPath {
  /** The address the request was sent to (a node's public or private address); null: a node not asked. */
  address: string | null;
  /** The load balancer it goes to, when one was found (also when the node was not). */
  loadBalancerArn: string | null;
  node: ConfigNode | null;
  /** Hops up to the target group (client → load balancer → routing), in order. */
  hops: ConfigHop[];
  /** Each target the rule leads to, with its hops. */
  targets: ConfigTargetPath[];
  /** allowed: every hop allows it (for at least one target); denied: a hop denies it; unknown: a hop cannot be decided. */
  status: HopStatus;
  /** The first hop that denies it (the request's order), else the first not determinable; null when allowed. */
  decisive: ConfigHop | null;
}

/** What a path is asked for: one request through one load-balancer node. */
export interface PathQuery {
  /** The URL's host and the names of its CNAME chain (a load balancer is found by its DNSName). */
  names: string[];
  /** The address the request went to; null: evaluate every node of the load balancer. */
  address: string | null;
  port: number;
  scheme: 'http' | 'https';
  host: string;
  /** Path and query, e.g. `/page?x=1`. */
  path: string;
  method: string;
  /** The client's address as it knows it (a private one is behind NAT for an internet-facing load balancer). */
  clientAddress: string | null;
  /** The client's address as the load balancer saw it (the last X-Forwarded-For entry it added), when the capture shows it. */
  clientSeenByLoadBalancer: string | null;
  /** The load balancer to use (name or ARN); null: found from the names and addresses. */
  loadBalancer: string | null;
  /** Addresses of the instance the capture ran on: its target is preferred. */
  targetAddresses: string[];
}
