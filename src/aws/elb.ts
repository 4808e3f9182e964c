/**
 * The load balancer's side of the path, as Elastic Load Balancing documents an Application
 * Load Balancer (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/):
 *  - which load balancer a request goes to (the one named, the one whose DNS name is on the
 *    URL's CNAME chain, the one whose node has the address, the only one);
 *  - its nodes: one network interface per enabled subnet (`ELB app/NAME/ID`), with the
 *    node's private and public addresses;
 *  - the listener on the request's port and protocol;
 *  - the listener's rules in priority order (the default rule last); the first whose
 *    conditions all match decides (host-header, path-pattern, http-request-method,
 *    query-string, source-ip; an http-header condition cannot be decided here);
 *  - the target group it forwards to and the state of each registered target (healthy,
 *    initial, unhealthy — when every target is unhealthy the load balancer fails open and
 *    routes to all —, unused, draining).
 */
import { isIpv4, matchCidr } from './cidr.js';
import { commandOf } from './files.js';
import type { Reading } from './network.js';
import type {
  AddressSpec, AwsSnapshot, ConfigFact, ConfigNode, ConfigRule, Listener, LoadBalancer, NetworkInterface, PathQuery, Rule, TargetGroup, TargetState,
} from './types.js';

/** `*` any run of characters, `?` one; case-insensitive for host names. */
export function wildcardMatch(pattern: string, text: string, caseInsensitive: boolean): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const t = caseInsensitive ? text.toLowerCase() : text;
  // Iterative glob match (no regex built from user data).
  let pi = 0; let ti = 0; let star = -1; let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) { pi++; ti++; continue; }
    if (pi < p.length && p[pi] === '*') { star = pi++; mark = ti; continue; }
    if (star !== -1) { pi = star + 1; ti = ++mark; continue; }
    return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

const stripDot = (n: string): string => n.replace(/\.$/, '').toLowerCase();

/** `arn:…:loadbalancer/app/NAME/ID` → `app/NAME/ID`: how its nodes' interfaces are described (`ELB app/NAME/ID`). */
export function loadBalancerKey(arn: string): string | null {
  const m = /:loadbalancer\/((?:app|net|gwy)\/[^/]+\/[^/]+)$/.exec(arn);
  return m ? m[1]! : null;
}

function nodeInterfaces(s: AwsSnapshot, lb: LoadBalancer): NetworkInterface[] {
  const key = lb.LoadBalancerArn ? loadBalancerKey(lb.LoadBalancerArn) : null;
  if (!key) return [];
  return (s.networkInterfaces ?? []).filter((n) => n.Description === `ELB ${key}`);
}

function addressesOf(n: NetworkInterface): string[] {
  const out = [n.PrivateIpAddress, n.Association?.PublicIp];
  for (const p of n.PrivateIpAddresses ?? []) out.push(p.PrivateIpAddress, p.Association?.PublicIp);
  return out.filter((a): a is string => typeof a === 'string');
}

export interface LoadBalancerChoice {
  lb: LoadBalancer | null;
  /** How it was found; or, with no load balancer, why none was. */
  by: 'named' | 'dns-name' | 'address' | 'only-one' | 'none';
  facts: ConfigFact[];
}

/** The load balancer the request goes to. */
export function chooseLoadBalancer(s: AwsSnapshot, q: Pick<PathQuery, 'loadBalancer' | 'names' | 'address'>): LoadBalancerChoice {
  const lbs = s.loadBalancers;
  if (!lbs) return { lb: null, by: 'none', facts: [{ kind: 'missing-output', command: commandOf('loadBalancers') }] };
  if (q.loadBalancer) {
    const lb = lbs.find((l) => l.LoadBalancerName === q.loadBalancer || l.LoadBalancerArn === q.loadBalancer) ?? null;
    return { lb, by: lb ? 'named' : 'none', facts: lb ? [] : [{ kind: 'missing-resource', resource: q.loadBalancer, command: commandOf('loadBalancers') }] };
  }
  const names = q.names.map(stripDot);
  const byName = lbs.find((l) => l.DNSName && names.some((n) => n === stripDot(l.DNSName!) || n === `dualstack.${stripDot(l.DNSName!)}`));
  if (byName) return { lb: byName, by: 'dns-name', facts: [] };
  if (q.address) {
    const byAddress = lbs.find((l) => nodeInterfaces(s, l).some((n) => addressesOf(n).includes(q.address!))
      || (l.AvailabilityZones ?? []).some((z) => (z.LoadBalancerAddresses ?? []).some((a) => a.IpAddress === q.address || a.PrivateIPv4Address === q.address)));
    if (byAddress) return { lb: byAddress, by: 'address', facts: [] };
  }
  if (lbs.length === 1) return { lb: lbs[0]!, by: 'only-one', facts: [] };
  return { lb: null, by: 'none', facts: [] };
}

/** The load balancer's nodes: one per enabled subnet (from its interfaces when read, else from its zones). */
export function loadBalancerNodes(s: AwsSnapshot, lb: LoadBalancer): ConfigNode[] {
  const base = { loadBalancerArn: lb.LoadBalancerArn ?? '?', loadBalancerName: lb.LoadBalancerName ?? null, scheme: lb.Scheme ?? null };
  const enis = nodeInterfaces(s, lb);
  if (enis.length > 0) {
    return enis.map((n) => ({
      ...base, networkInterfaceId: n.NetworkInterfaceId ?? null, subnetId: n.SubnetId ?? null, zone: n.AvailabilityZone ?? null,
      privateAddress: n.PrivateIpAddress ?? null, publicAddress: n.Association?.PublicIp ?? null,
    })).sort((a, b) => (a.zone ?? '').localeCompare(b.zone ?? ''));
  }
  return (lb.AvailabilityZones ?? []).map((z) => ({
    ...base, networkInterfaceId: null, subnetId: z.SubnetId ?? null, zone: z.ZoneName ?? null,
    privateAddress: z.LoadBalancerAddresses?.[0]?.PrivateIPv4Address ?? null, publicAddress: z.LoadBalancerAddresses?.[0]?.IpAddress ?? null,
  }));
}

/** The node a request sent to `address` reached. */
export function nodeOfAddress(nodes: ConfigNode[], address: string): ConfigNode | null {
  return nodes.find((n) => n.privateAddress === address || n.publicAddress === address) ?? null;
}

// ── listener ───────────────────────────────────────────────────────────────────────────

export function evaluateListener(s: AwsSnapshot, lb: LoadBalancer, q: Pick<PathQuery, 'port' | 'scheme'>): Reading & { listener: Listener | null } {
  const wanted = { protocol: q.scheme === 'https' ? 'HTTPS' : 'HTTP', port: q.port };
  if (!s.listeners) return { status: 'unknown', reason: 'not-read', resource: null, rule: null, facts: [{ kind: 'missing-output', command: commandOf('listeners') }], listener: null };
  const mine = s.listeners.filter((l) => l.LoadBalancerArn === lb.LoadBalancerArn);
  const fact: ConfigFact = { kind: 'listeners', loadBalancer: lb.LoadBalancerName ?? lb.LoadBalancerArn ?? '?', ports: mine.map((l) => ({ protocol: l.Protocol ?? '?', port: l.Port ?? 0 })), wanted };
  const listener = mine.find((l) => l.Port === q.port) ?? null;
  if (!listener) return { status: 'denied', reason: 'no-listener', resource: lb.LoadBalancerArn ?? null, rule: null, facts: [fact], listener: null };
  const rule: ConfigRule = { kind: 'listener', listenerArn: listener.ListenerArn ?? '?', protocol: listener.Protocol ?? '?', port: listener.Port ?? q.port };
  // An HTTP listener does not speak TLS and an HTTPS one expects it; TCP/TLS pass through (a network load balancer).
  const speaks = listener.Protocol === wanted.protocol || listener.Protocol === 'TCP' || (listener.Protocol === 'TLS' && wanted.protocol === 'HTTPS');
  if (!speaks) return { status: 'denied', reason: 'listener-protocol', resource: listener.ListenerArn ?? null, rule, facts: [fact], listener };
  return { status: 'allowed', reason: 'listener-found', resource: listener.ListenerArn ?? null, rule, facts: [fact], listener };
}

// ── rules ──────────────────────────────────────────────────────────────────────────────

/** The listener's ARN a rule belongs to: `…:listener-rule/app/N/ID/LISTENER/RULE` → `…:listener/app/N/ID/LISTENER`. */
export function listenerOfRule(ruleArn: string): string {
  return ruleArn.replace(':listener-rule/', ':listener/').replace(/\/[^/]+$/, '');
}

type Tri = 'yes' | 'no' | 'maybe';

function conditionMatch(c: NonNullable<Rule['Conditions']>[number], q: PathQuery, client: AddressSpec | null): Tri {
  const [pathOnly, query = ''] = q.path.split('?', 2) as [string, string?];
  switch (c.Field) {
    case 'host-header': {
      const values = c.HostHeaderConfig?.Values ?? c.Values ?? [];
      const host = q.port === 80 || q.port === 443 ? q.host : `${q.host}:${q.port}`;
      return values.some((v) => wildcardMatch(v, q.host, true) || wildcardMatch(v, host, true)) ? 'yes' : 'no';
    }
    case 'path-pattern': {
      const values = c.PathPatternConfig?.Values ?? c.Values ?? [];
      return values.some((v) => wildcardMatch(v, pathOnly || '/', false)) ? 'yes' : 'no';
    }
    case 'http-request-method':
      return (c.HttpRequestMethodConfig?.Values ?? c.Values ?? []).includes(q.method) ? 'yes' : 'no';
    case 'query-string': {
      const pairs = query.split('&').filter(Boolean).map((kv) => {
        const [k, v = ''] = kv.split('=', 2) as [string, string?];
        return { k: decodeURIComponent(k), v: decodeURIComponent(v) };
      });
      const values = c.QueryStringConfig?.Values ?? [];
      return values.some((want) => pairs.some((p) => (want.Key === undefined || wildcardMatch(want.Key, p.k, true)) && wildcardMatch(want.Value ?? '', p.v, true))) ? 'yes' : 'no';
    }
    case 'source-ip': {
      if (!client) return 'maybe';
      let best: Tri = 'no';
      for (const v of c.SourceIpConfig?.Values ?? c.Values ?? []) {
        const m = matchCidr(v, client);
        if (m === 'yes') return 'yes';
        if (m === 'maybe') best = 'maybe';
      }
      return best;
    }
    default:
      // http-header and anything newer: what the request carries besides the URL is not known here.
      return 'maybe';
  }
}

function priorityOf(r: Rule): number {
  return r.IsDefault || r.Priority === 'default' ? Number.POSITIVE_INFINITY : Number(r.Priority ?? Number.POSITIVE_INFINITY);
}

/** The forward targets of an action list: the first action that is not an authentication decides. */
function decideActions(actions: NonNullable<Rule['Actions']>): { action: string; targetGroupArns: string[]; statusCode: string | null; authenticate: boolean } {
  const sorted = [...actions].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0));
  const authenticate = sorted.some((a) => a.Type?.startsWith('authenticate-'));
  const main = sorted.find((a) => !a.Type?.startsWith('authenticate-'));
  if (!main) return { action: 'none', targetGroupArns: [], statusCode: null, authenticate };
  if (main.Type === 'forward') {
    const weighted = (main.ForwardConfig?.TargetGroups ?? []).filter((t) => t.TargetGroupArn && (t.Weight === undefined || t.Weight > 0)).map((t) => t.TargetGroupArn!);
    return { action: 'forward', targetGroupArns: weighted.length > 0 ? weighted : main.TargetGroupArn ? [main.TargetGroupArn] : [], statusCode: null, authenticate };
  }
  if (main.Type === 'fixed-response') return { action: 'fixed-response', targetGroupArns: [], statusCode: main.FixedResponseConfig?.StatusCode ?? null, authenticate };
  if (main.Type === 'redirect') return { action: 'redirect', targetGroupArns: [], statusCode: main.RedirectConfig?.StatusCode ?? null, authenticate };
  return { action: main.Type ?? 'unknown', targetGroupArns: [], statusCode: null, authenticate };
}

export interface RuleReading extends Reading {
  /** The target groups the request is forwarded to (empty: the load balancer answers itself). */
  targetGroupArns: string[];
}

export function evaluateRules(s: AwsSnapshot, listener: Listener, q: PathQuery, client: AddressSpec | null): RuleReading {
  const listenerArn = listener.ListenerArn ?? '';
  const rules = (s.rules ?? []).filter((r) => r.RuleArn && listenerOfRule(r.RuleArn) === listenerArn).sort((a, b) => priorityOf(a) - priorityOf(b));
  // Without the rules, the listener's default action is what the rules end with — but an earlier rule may catch the request.
  const defaultRule: Rule = { RuleArn: `${listenerArn}/default`, Priority: 'default', IsDefault: true, Conditions: [], Actions: listener.DefaultActions ?? [] };
  const ordered = rules.length > 0 ? rules : [defaultRule];
  let undecided: { rule: Rule; field: string } | null = null;
  for (const r of ordered) {
    const results = (r.Conditions ?? []).map((c) => ({ field: c.Field ?? '?', m: conditionMatch(c, q, client) }));
    if (results.some((x) => x.m === 'no')) continue;
    const maybe = results.find((x) => x.m === 'maybe');
    if (maybe) { undecided ??= { rule: r, field: maybe.field }; continue; }
    const d = decideActions(r.Actions ?? []);
    const rule: ConfigRule = { kind: 'listener-rule', ruleArn: r.RuleArn ?? '?', priority: r.IsDefault ? 'default' : r.Priority ?? '?', action: d.action, statusCode: d.statusCode, targetGroupArns: d.targetGroupArns };
    const base = { resource: r.RuleArn ?? null, rule, targetGroupArns: d.targetGroupArns };
    if (undecided) {
      return { ...base, status: 'unknown', reason: 'condition-unknown', facts: [{ kind: 'condition', ruleArn: undecided.rule.RuleArn ?? '?', priority: undecided.rule.Priority ?? '?', field: undecided.field }] };
    }
    if (!s.rules) return { ...base, status: 'unknown', reason: 'not-read', facts: [{ kind: 'missing-output', command: commandOf('rules') }] };
    if (d.authenticate) return { ...base, status: 'unknown', reason: 'rule-authenticate', facts: [] };
    if (d.action === 'forward') return { ...base, status: 'allowed', reason: 'rule-forward', facts: [] };
    if (d.action === 'redirect') return { ...base, status: 'allowed', reason: 'rule-redirect', facts: [] };
    const ok = d.statusCode !== null && /^[23]/.test(d.statusCode);
    return { ...base, status: ok ? 'allowed' : 'denied', reason: ok ? 'rule-fixed-ok' : 'rule-fixed-response', facts: [] };
  }
  if (undecided) {
    return { status: 'unknown', reason: 'condition-unknown', resource: undecided.rule.RuleArn ?? null, rule: null, targetGroupArns: [], facts: [{ kind: 'condition', ruleArn: undecided.rule.RuleArn ?? '?', priority: undecided.rule.Priority ?? '?', field: undecided.field }] };
  }
  // A listener always has a default rule; rules read without it are incomplete.
  return { status: 'unknown', reason: 'not-found', resource: listenerArn, rule: null, targetGroupArns: [], facts: [{ kind: 'missing-resource', resource: `the default rule of ${listenerArn}`, command: commandOf('rules') }] };
}

// ── target group ───────────────────────────────────────────────────────────────────────

const ROUTED_STATES = new Set(['healthy', 'initial', 'unavailable']);

export interface TargetGroupReading extends Reading {
  group: TargetGroup | null;
  targets: TargetState[];
}

export function evaluateTargetGroup(s: AwsSnapshot, arn: string): TargetGroupReading {
  const none = { group: null, targets: [] as TargetState[] };
  if (!s.targetGroups) return { ...none, status: 'unknown', reason: 'not-read', resource: arn, rule: null, facts: [{ kind: 'missing-output', command: commandOf('targetGroups') }] };
  const group = s.targetGroups.find((g) => g.TargetGroupArn === arn) ?? null;
  if (!group) return { ...none, status: 'unknown', reason: 'not-found', resource: arn, rule: null, facts: [{ kind: 'missing-resource', resource: arn, command: commandOf('targetGroups') }] };
  const set = s.targetHealth?.find((h) => h.targetGroupArn === arn);
  if (!set) return { group, targets: [], status: 'unknown', reason: 'not-read', resource: arn, rule: null, facts: [{ kind: 'missing-output', command: `${commandOf('targetHealth')} --target-group-arn ${arn}` }] };
  const allUnhealthy = set.descriptions.length > 0 && set.descriptions.every((d) => d.TargetHealth?.State === 'unhealthy');
  const targets: TargetState[] = set.descriptions.map((d) => {
    const state = d.TargetHealth?.State ?? null;
    return {
      id: d.Target?.Id ?? '?', port: d.Target?.Port ?? group.Port ?? 0, state, reason: d.TargetHealth?.Reason ?? null,
      routable: state === null || ROUTED_STATES.has(state) || (state === 'unhealthy' && allUnhealthy),
    };
  });
  const fact: ConfigFact = { kind: 'targets', targetGroupArn: arn, targetGroupName: group.TargetGroupName ?? null, targets };
  if (targets.length === 0) return { group, targets, status: 'denied', reason: 'no-targets', resource: arn, rule: null, facts: [fact] };
  if (!targets.some((t) => t.routable)) return { group, targets, status: 'denied', reason: 'targets-not-routable', resource: arn, rule: null, facts: [fact] };
  return { group, targets, status: 'allowed', reason: 'targets-routable', resource: arn, rule: null, facts: [fact] };
}

/** The network interface a target receives on: an instance's primary one, or the one with the target's address. */
export function targetInterface(s: AwsSnapshot, targetId: string): { eni: NetworkInterface | null; address: string | null; missing: ConfigFact | null } {
  if (targetId.startsWith('i-')) {
    if (!s.instances) return { eni: null, address: null, missing: { kind: 'missing-output', command: commandOf('instances') } };
    const inst = s.instances.find((i) => i.InstanceId === targetId);
    if (!inst) return { eni: null, address: null, missing: { kind: 'missing-resource', resource: targetId, command: commandOf('instances') } };
    const primary = (inst.NetworkInterfaces ?? []).find((n) => n.Attachment?.DeviceIndex === 0) ?? inst.NetworkInterfaces?.[0];
    const full = s.networkInterfaces?.find((n) => n.NetworkInterfaceId === primary?.NetworkInterfaceId) ?? null;
    // The instance's own description of its interface carries what the evaluation needs.
    const eni: NetworkInterface | null = full ?? (primary ? {
      NetworkInterfaceId: primary.NetworkInterfaceId, SubnetId: primary.SubnetId ?? inst.SubnetId, VpcId: primary.VpcId ?? inst.VpcId,
      PrivateIpAddress: primary.PrivateIpAddress, Groups: primary.Groups ?? inst.SecurityGroups,
    } : { SubnetId: inst.SubnetId, VpcId: inst.VpcId, PrivateIpAddress: inst.PrivateIpAddress, Groups: inst.SecurityGroups });
    return { eni, address: eni.PrivateIpAddress ?? inst.PrivateIpAddress ?? null, missing: null };
  }
  if (isIpv4(targetId)) {
    if (!s.networkInterfaces) return { eni: null, address: targetId, missing: { kind: 'missing-output', command: commandOf('networkInterfaces') } };
    const eni = s.networkInterfaces.find((n) => addressesOf(n).includes(targetId)) ?? null;
    return { eni, address: targetId, missing: eni ? null : { kind: 'missing-resource', resource: `the network interface of ${targetId}`, command: commandOf('networkInterfaces') } };
  }
  return { eni: null, address: null, missing: { kind: 'missing-resource', resource: targetId, command: commandOf('instances') } };
}
