/**
 * The part of a snapshot an evaluation read: the load balancer, its listeners, rules, target
 * groups and their health, the targets' instances and interfaces, the security groups on both
 * ends (and the groups their rules name), both subnets with their network ACLs and route
 * tables, the prefix lists named. Kept in follow's --json so the result can be evaluated
 * again offline without carrying a whole account's configuration.
 */
import { loadBalancerKey, listenerOfRule } from './elb.js';
import type { AwsSnapshot, ConfigPath } from './types.js';

export function scopeSnapshot(s: AwsSnapshot, paths: ConfigPath[]): AwsSnapshot {
  const lbArns = new Set(paths.map((p) => p.loadBalancerArn).filter((a): a is string => !!a));
  const lbs = (s.loadBalancers ?? []).filter((l) => lbArns.has(l.LoadBalancerArn ?? ''));
  const vpcs = new Set(lbs.map((l) => l.VpcId).filter((v): v is string => !!v));
  const listeners = (s.listeners ?? []).filter((l) => lbArns.has(l.LoadBalancerArn ?? ''));
  const listenerArns = new Set(listeners.map((l) => l.ListenerArn ?? ''));
  const rules = (s.rules ?? []).filter((r) => r.RuleArn && listenerArns.has(listenerOfRule(r.RuleArn)));
  const groupArns = new Set<string>();
  for (const a of [...listeners.flatMap((l) => l.DefaultActions ?? []), ...rules.flatMap((r) => r.Actions ?? [])]) {
    if (a.TargetGroupArn) groupArns.add(a.TargetGroupArn);
    for (const t of a.ForwardConfig?.TargetGroups ?? []) if (t.TargetGroupArn) groupArns.add(t.TargetGroupArn);
  }
  const targetGroups = (s.targetGroups ?? []).filter((g) => groupArns.has(g.TargetGroupArn ?? ''));
  const targetHealth = (s.targetHealth ?? []).filter((h) => groupArns.has(h.targetGroupArn));
  const targetIds = new Set(targetHealth.flatMap((h) => h.descriptions.map((d) => d.Target?.Id ?? '')));
  const instances = (s.instances ?? []).filter((i) => targetIds.has(i.InstanceId ?? ''));
  const keys = new Set(lbs.map((l) => `ELB ${loadBalancerKey(l.LoadBalancerArn ?? '') ?? ''}`));
  const instanceEnis = new Set(instances.flatMap((i) => (i.NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId ?? '')));
  const networkInterfaces = (s.networkInterfaces ?? []).filter((n) => keys.has(n.Description ?? '') || instanceEnis.has(n.NetworkInterfaceId ?? '')
    || [n.PrivateIpAddress, ...(n.PrivateIpAddresses ?? []).map((p) => p.PrivateIpAddress)].some((a) => a && targetIds.has(a)));
  const subnetIds = new Set([...networkInterfaces.map((n) => n.SubnetId ?? ''), ...instances.map((i) => i.SubnetId ?? ''),
    ...lbs.flatMap((l) => (l.AvailabilityZones ?? []).map((z) => z.SubnetId ?? ''))]);
  const subnets = (s.subnets ?? []).filter((x) => subnetIds.has(x.SubnetId ?? ''));
  const groupIds = new Set([...lbs.flatMap((l) => l.SecurityGroups ?? []), ...networkInterfaces.flatMap((n) => (n.Groups ?? []).map((g) => g.GroupId ?? '')),
    ...instances.flatMap((i) => (i.SecurityGroups ?? []).map((g) => g.GroupId ?? ''))]);
  const named = (s.securityGroups ?? []).filter((g) => groupIds.has(g.GroupId ?? ''));
  // The groups the kept groups' rules name (their members' addresses do not matter: membership does).
  const prefixLists = new Set<string>();
  for (const g of named) {
    for (const p of [...(g.IpPermissions ?? []), ...(g.IpPermissionsEgress ?? [])]) {
      for (const pair of p.UserIdGroupPairs ?? []) if (pair.GroupId) groupIds.add(pair.GroupId);
      for (const pl of p.PrefixListIds ?? []) if (pl.PrefixListId) prefixLists.add(pl.PrefixListId);
    }
  }
  const securityGroups = (s.securityGroups ?? []).filter((g) => groupIds.has(g.GroupId ?? ''));
  const networkAcls = (s.networkAcls ?? []).filter((a) => (a.Associations ?? []).some((x) => subnetIds.has(x.SubnetId ?? '')) || (a.IsDefault === true && vpcs.has(a.VpcId ?? '')));
  const routeTables = (s.routeTables ?? []).filter((t) => (t.Associations ?? []).some((x) => subnetIds.has(x.SubnetId ?? '') || (x.Main === true && vpcs.has(t.VpcId ?? ''))));
  for (const t of routeTables) for (const r of t.Routes ?? []) if (r.DestinationPrefixListId) prefixLists.add(r.DestinationPrefixListId);
  const keep = <T>(part: T[] | null, items: T[]): T[] | null => (part === null ? null : items);
  return {
    loadBalancers: keep(s.loadBalancers, lbs), listeners: keep(s.listeners, listeners), rules: keep(s.rules, rules),
    targetGroups: keep(s.targetGroups, targetGroups), targetHealth: keep(s.targetHealth, targetHealth), instances: keep(s.instances, instances),
    securityGroups: keep(s.securityGroups, securityGroups), networkAcls: keep(s.networkAcls, networkAcls), routeTables: keep(s.routeTables, routeTables),
    subnets: keep(s.subnets, subnets), networkInterfaces: keep(s.networkInterfaces, networkInterfaces),
    prefixLists: keep(s.prefixLists, (s.prefixLists ?? []).filter((p) => prefixLists.has(p.prefixListId))),
  };
}
