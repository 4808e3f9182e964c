/**
 * The same outputs as the AWS CLI's describe commands, asked of the AWS API with the SDK v3
 * and the user's usual credentials, profile and region (the SDK's default provider chain:
 * environment, shared config/credentials files, SSO, the instance's role…). Read-only calls
 * only; the IAM actions are AWS_IAM_ACTIONS. The SDK is loaded here, on first use, so the
 * CLI does not pay for it when the configuration comes from files.
 *
 *  1. the load balancers (all, or the one named), their listeners and listener rules;
 *  2. their target groups and each group's target health;
 *  3. the VPC side: instances, security groups, network ACLs, route tables, subnets, network
 *     interfaces — of the load balancers' VPCs when one was named, else of the region;
 *  4. the entries of every managed prefix list a security group or a route names.
 */
import { AwsApiError } from '../errors.js';
import { AWS_COMMANDS, emptySnapshot } from './files.js';
import type { AwsSnapshot, PrefixListEntries, TargetHealthSet } from './types.js';

export interface AwsApiOptions {
  /** Default: the SDK's (AWS_REGION, the profile's region). */
  region?: string | null;
  /** Default: the SDK's (AWS_PROFILE, `default`). */
  profile?: string | null;
  /** Another endpoint for both services (tests: a local HTTP server). AWS_ENDPOINT_URL works too. */
  endpoint?: string | null;
  /** Static credentials (tests); default: the SDK's provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | null;
  /** Only this load balancer (name or ARN) and what it leads to. */
  loadBalancer?: string | null;
  /** Attempts per call (the SDK retries throttling and 5xx); default the SDK's 3. */
  maxAttempts?: number;
}

/** Pages of a describe call, followed to the end. */
async function allPages<T>(fetch: (token: string | undefined) => Promise<{ items: T[]; next: string | undefined }>): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  // A token that comes back unchanged would loop for ever: stop on it.
  for (let page = 0; page < 10_000; page++) {
    const { items, next } = await fetch(token);
    out.push(...items);
    if (!next || next === token) break;
    token = next;
  }
  return out;
}

/** An SDK failure as flowtrace's error: what failed, and what to do. */
function apiError(err: unknown, action: string): AwsApiError {
  const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? '';
  const message = (e?.message ?? String(err)).split('\n')[0]!;
  const facts = { action, error: name, httpStatus: e?.$metadata?.httpStatusCode ?? null };
  if (name === 'CredentialsProviderError' || /Could not load credentials|credential/i.test(message) && !/denied|authorized/i.test(message)) {
    return new AwsApiError('AWS_NO_CREDENTIALS', `no AWS credentials for ${action}: ${message}`, 'configure them as the AWS CLI does (aws configure, aws sso login, AWS_PROFILE), or give --aws-profile NAME', facts);
  }
  if (/Region is missing|region/i.test(message) && /missing|not.*(set|configured)/i.test(message)) {
    return new AwsApiError('AWS_NO_REGION', `no AWS region for ${action}`, 'give --aws-region REGION, or set AWS_REGION (or the profile\'s region)', facts);
  }
  if (/AccessDenied|UnauthorizedOperation|UnauthorizedAccess/i.test(name)) {
    return new AwsApiError('AWS_ACCESS_DENIED', `${action} was refused: ${message}`, `the identity needs the read-only actions ${action} and the others listed in docs/aws.md (e.g. the ReadOnlyAccess policy)`, facts);
  }
  if (/AuthFailure|InvalidClientTokenId|SignatureDoesNotMatch|ExpiredToken|UnrecognizedClient|InvalidAccessKeyId/i.test(name)) {
    return new AwsApiError('AWS_AUTH', `AWS did not accept the credentials for ${action}: ${name}: ${message}`, 'refresh them (aws sso login, new keys), or check AWS_PROFILE / --aws-profile', facts);
  }
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|TimeoutError/.test(`${code} ${name}`)) {
    return new AwsApiError('AWS_UNREACHABLE', `the AWS API could not be reached for ${action}: ${code || name} ${message}`.trim(), 'check the network and the region (--aws-region), or the endpoint (AWS_ENDPOINT_URL)', facts);
  }
  return new AwsApiError('AWS_API', `${action} failed: ${name ? `${name}: ` : ''}${message}`, 'run the same call with the AWS CLI to see more (docs/aws.md lists them)', facts);
}

async function call<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try { return await fn(); } catch (err) { throw apiError(err, action); }
}

/** Reads the configuration from the AWS API. Throws AwsApiError (code, facts, hint). */
export async function fetchAwsConfig(o: AwsApiOptions = {}): Promise<AwsSnapshot> {
  const [ec2m, elbm] = await Promise.all([import('@aws-sdk/client-ec2'), import('@aws-sdk/client-elastic-load-balancing-v2')]);
  const config = {
    ...(o.region ? { region: o.region } : {}),
    ...(o.profile ? { profile: o.profile } : {}),
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    ...(o.maxAttempts ? { maxAttempts: o.maxAttempts } : {}),
  };
  const ec2 = new ec2m.EC2Client(config);
  const elb = new elbm.ElasticLoadBalancingV2Client(config);
  const s = emptySnapshot();
  try {
    // 1. load balancers, listeners, rules
    const named = o.loadBalancer ?? null;
    const byArn = named?.startsWith('arn:') ?? false;
    s.loadBalancers = await call('elasticloadbalancing:DescribeLoadBalancers', () => allPages(async (Marker) => {
      const r = await elb.send(new elbm.DescribeLoadBalancersCommand({ Marker, ...(named ? (byArn ? { LoadBalancerArns: [named] } : { Names: [named] }) : {}) }));
      return { items: r.LoadBalancers ?? [], next: r.NextMarker };
    }));
    const lbArns = s.loadBalancers.map((l) => l.LoadBalancerArn!).filter(Boolean);
    s.listeners = (await Promise.all(lbArns.map((LoadBalancerArn) => call('elasticloadbalancing:DescribeListeners', () => allPages(async (Marker) => {
      const r = await elb.send(new elbm.DescribeListenersCommand({ LoadBalancerArn, Marker }));
      return { items: r.Listeners ?? [], next: r.NextMarker };
    }))))).flat();
    // Only application load balancers have listener rules.
    const ruled = s.listeners.filter((l) => l.Protocol === 'HTTP' || l.Protocol === 'HTTPS');
    s.rules = (await Promise.all(ruled.map((l) => call('elasticloadbalancing:DescribeRules', () => allPages(async (Marker) => {
      const r = await elb.send(new elbm.DescribeRulesCommand({ ListenerArn: l.ListenerArn!, Marker }));
      return { items: r.Rules ?? [], next: r.NextMarker };
    }))))).flat();

    // 2. target groups and their health
    const groupPages = named
      ? lbArns.map((LoadBalancerArn) => ({ LoadBalancerArn }))
      : [{}];
    const groups = (await Promise.all(groupPages.map((filter) => call('elasticloadbalancing:DescribeTargetGroups', () => allPages(async (Marker) => {
      const r = await elb.send(new elbm.DescribeTargetGroupsCommand({ ...filter, Marker }));
      return { items: r.TargetGroups ?? [], next: r.NextMarker };
    }))))).flat();
    s.targetGroups = groups.filter((g, i) => groups.findIndex((x) => x.TargetGroupArn === g.TargetGroupArn) === i);
    s.targetHealth = await Promise.all(s.targetGroups.map(async (g): Promise<TargetHealthSet> => {
      const r = await call('elasticloadbalancing:DescribeTargetHealth', () => elb.send(new elbm.DescribeTargetHealthCommand({ TargetGroupArn: g.TargetGroupArn! })));
      return { targetGroupArn: g.TargetGroupArn!, descriptions: r.TargetHealthDescriptions ?? [] };
    }));

    // 3. the VPC side (of the named load balancers' VPCs, else the region's)
    const vpcs = [...new Set(s.loadBalancers.map((l) => l.VpcId).filter((v): v is string => typeof v === 'string'))];
    const Filters = named && vpcs.length > 0 ? [{ Name: 'vpc-id', Values: vpcs }] : undefined;
    const [instances, groupsSg, acls, tables, subnets, enis] = await Promise.all([
      call('ec2:DescribeInstances', () => allPages(async (NextToken) => {
        const r = await ec2.send(new ec2m.DescribeInstancesCommand({ Filters, NextToken }));
        return { items: (r.Reservations ?? []).flatMap((x) => x.Instances ?? []), next: r.NextToken };
      })),
      call('ec2:DescribeSecurityGroups', () => allPages(async (NextToken) => {
        const r = await ec2.send(new ec2m.DescribeSecurityGroupsCommand({ Filters, NextToken }));
        return { items: r.SecurityGroups ?? [], next: r.NextToken };
      })),
      call('ec2:DescribeNetworkAcls', () => allPages(async (NextToken) => {
        const r = await ec2.send(new ec2m.DescribeNetworkAclsCommand({ Filters, NextToken }));
        return { items: r.NetworkAcls ?? [], next: r.NextToken };
      })),
      call('ec2:DescribeRouteTables', () => allPages(async (NextToken) => {
        const r = await ec2.send(new ec2m.DescribeRouteTablesCommand({ Filters, NextToken }));
        return { items: r.RouteTables ?? [], next: r.NextToken };
      })),
      call('ec2:DescribeSubnets', () => allPages(async (NextToken) => {
        const r = await ec2.send(new ec2m.DescribeSubnetsCommand({ Filters, NextToken }));
        return { items: r.Subnets ?? [], next: r.NextToken };
      })),
      call('ec2:DescribeNetworkInterfaces', () => allPages(async (NextToken) => {
        const r = await ec2.send(new ec2m.DescribeNetworkInterfacesCommand({ Filters, NextToken }));
        return { items: r.NetworkInterfaces ?? [], next: r.NextToken };
      })),
    ]);
    Object.assign(s, { instances, securityGroups: groupsSg, networkAcls: acls, routeTables: tables, subnets, networkInterfaces: enis });

    // 4. the managed prefix lists the rules and routes name
    const lists = new Set<string>();
    for (const g of groupsSg) for (const p of [...(g.IpPermissions ?? []), ...(g.IpPermissionsEgress ?? [])]) for (const pl of p.PrefixListIds ?? []) if (pl.PrefixListId) lists.add(pl.PrefixListId);
    for (const t of tables) for (const r of t.Routes ?? []) if (r.DestinationPrefixListId) lists.add(r.DestinationPrefixListId);
    s.prefixLists = await Promise.all([...lists].sort().map(async (PrefixListId): Promise<PrefixListEntries> => ({
      prefixListId: PrefixListId,
      entries: await call('ec2:GetManagedPrefixListEntries', () => allPages(async (NextToken) => {
        const r = await ec2.send(new ec2m.GetManagedPrefixListEntriesCommand({ PrefixListId, NextToken }));
        return { items: r.Entries ?? [], next: r.NextToken };
      })),
    })));
    return s;
  } finally {
    ec2.destroy();
    elb.destroy();
  }
}

/** The describe calls made, for `aws-snapshot`'s summary. */
export const AWS_API_CALLS = AWS_COMMANDS.map((c) => c.action);
