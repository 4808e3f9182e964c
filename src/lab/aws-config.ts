/**
 * The lab as AWS would describe it: the outputs of the describe calls (the AWS CLI's JSON,
 * the SDK's types) for the load balancer, its listeners, rules and target group, the
 * instance, its interfaces and security group, the subnets with their network ACLs and route
 * tables — built from the topology's constants and the active faults. A fault that is a
 * configuration change in AWS changes these outputs as it changes the lab:
 *
 *   sg-block             the instance's group loses its inbound rule for port 80
 *   nacl-ephemeral       the app subnet's ACL gets outbound rule 90: deny tcp 1024-65535
 *   target-deregistered  the target group has no registered target
 *   listener-missing     the load balancer has no listener on port 80
 *   lb-subnet-no-route   zone b's public route table loses its 0.0.0.0/0 → internet gateway
 *
 * Every other fault (a host firewall, a route on the host, the application…) leaves the
 * configuration as it is: AWS's view of it does not change.
 *
 * The VPC is drawn the way a two-tier VPC is: the load balancer's nodes in public subnets
 * (one per zone, each with its route table to the internet gateway, the VPC's default ACL),
 * the instance in a private subnet (its own ACL; the main route table, to a NAT gateway),
 * the second interface in a subnet of its own. The lab's one L2 segment carries all of them.
 */
import type {
  AwsSnapshot, Instance, Listener, LoadBalancer, NetworkAcl, NetworkInterface, Rule, RouteTable, SecurityGroup, Subnet, TargetGroup, TargetHealthDescription,
} from '../aws/index.js';
import { LAB } from './topology.js';
import { ALB_ELB_ID, ALB_TARGET_GROUP_ARN, ALB_CERTIFICATE_ARN, ALB_HEALTH_CHECK, LISTENER_MISSING_PORT } from './services.js';
import type { TargetHealth } from './alb.js';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const zoneOf = (z: 'a' | 'b'): string => `${REGION}${z}`;

/** The lab's resource ids (AWS's formats: a prefix and 17 hex digits). */
export const LAB_AWS_IDS = {
  vpc: 'vpc-0f7a1b2c3d4e5f601',
  internetGateway: 'igw-0a1b2c3d4e5f60718',
  natGateway: 'nat-0b2c3d4e5f6071829',
  subnetPublicA: 'subnet-0a1a0000000000a01',
  subnetPublicB: 'subnet-0b1b0000000000b01',
  subnetApp: 'subnet-0a5a0000000000a05',
  subnetSecondEni: 'subnet-0a6a0000000000a64',
  routeTablePublicA: 'rtb-0a1a0000000000a01',
  routeTablePublicB: 'rtb-0b1b0000000000b01',
  routeTableMain: 'rtb-0f0f0000000000f00',
  aclDefault: 'acl-0f0f0000000000f00',
  aclApp: 'acl-0a5a0000000000a05',
  sgAlb: 'sg-0a1b0000000000a1b',
  sgWeb: 'sg-0e5e0000000000e5e',
  instance: 'i-0e5c2000000000e5c',
  eniEns5: 'eni-0e5e0000000000e55',
  eniEns6: 'eni-0e5e0000000000e56',
  eniAlbA: 'eni-0a1b0000000000a0a',
  eniAlbB: 'eni-0a1b0000000000b0b',
} as const;

const ID = LAB_AWS_IDS;
const LB_ARN = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/${ALB_ELB_ID}`;
const LISTENER_ARN = (port: number): string => `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/${ALB_ELB_ID}/${port === 443 ? '2f0e4c1d9b8a7e63' : '6a5b4c3d2e1f0a98'}`;
/** The lab's load balancer's DNS name (the lab's own name, seqas.online, resolves to its nodes directly). */
export const LAB_LB_DNS_NAME = `seqas-alb-1496912345.${REGION}.elb.amazonaws.com`;
/** The public subnets are /24s inside the lab's /16, so the nodes and the instance are in different subnets (their ACLs apply). */
const SUBNETS = {
  publicA: '172.31.0.0/24', publicB: '172.31.16.0/24', app: '172.31.5.0/24',
  secondEni: networkOf(LAB.secondEni.address, LAB.secondEni.prefixLength),
};

/** `172.31.64.20`, 20 → `172.31.64.0/20`. */
function networkOf(address: string, prefix: number): string {
  const n = address.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const base = n - (n % 2 ** (32 - prefix));
  return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.')}/${prefix}`;
}

/** What the target health is, from the lab's ALB nodes (each checks on its own; AWS reports one state per target). */
function targetHealthOf(nodes: TargetHealth[][], target: string): TargetHealthDescription['TargetHealth'] {
  const seen = nodes.flatMap((n) => n.filter((t) => t.target === target));
  if (seen.length === 0) return { State: 'unavailable', Reason: 'Elb.InternalError', Description: 'Target health is unavailable (the lab\'s load balancer nodes are not running)' };
  const bad = seen.find((t) => t.state === 'unhealthy');
  if (bad) return { State: 'unhealthy', Reason: bad.reason === 'Target.Timeout' || bad.reason === 'Target.ResponseCodeMismatch' ? bad.reason : 'Target.FailedHealthChecks', Description: 'Health checks failed' };
  if (seen.every((t) => t.state === 'healthy')) return { State: 'healthy' };
  return { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' };
}

export interface LabAwsOptions {
  /** The lab's active faults. */
  faults: readonly string[];
  /** Each running ALB node's target health (lab status); empty: not known. */
  targetHealth?: TargetHealth[][];
}

/** The lab's configuration as the describe calls would return it. */
export function labAwsSnapshot(o: LabAwsOptions): AwsSnapshot {
  const has = (f: string): boolean => o.faults.includes(f);
  const nodes = [
    { z: LAB.albA.zone, eni: ID.eniAlbA, subnet: ID.subnetPublicA, table: ID.routeTablePublicA, vpc: LAB.albA.vpc, public: LAB.albA.public, block: SUBNETS.publicA },
    { z: LAB.albB.zone, eni: ID.eniAlbB, subnet: ID.subnetPublicB, table: ID.routeTablePublicB, vpc: LAB.albB.vpc, public: LAB.albB.public, block: SUBNETS.publicB },
  ];
  const tag = (name: string): { Tags: Array<{ Key: string; Value: string }> } => ({ Tags: [{ Key: 'Name', Value: name }] });

  const loadBalancer: LoadBalancer = {
    LoadBalancerArn: LB_ARN, DNSName: LAB_LB_DNS_NAME, CanonicalHostedZoneId: 'Z32O12XQLNTSW2', LoadBalancerName: 'seqas-alb',
    Scheme: 'internet-facing', VpcId: ID.vpc, State: { Code: 'active' }, Type: 'application', IpAddressType: 'ipv4',
    AvailabilityZones: nodes.map((n) => ({ ZoneName: zoneOf(n.z), SubnetId: n.subnet, LoadBalancerAddresses: [] })),
    SecurityGroups: [ID.sgAlb],
  };
  const ports = [LAB.instance.port, 443].filter((p) => !(has('listener-missing') && p === LISTENER_MISSING_PORT));
  const listeners: Listener[] = ports.map((port) => ({
    ListenerArn: LISTENER_ARN(port), LoadBalancerArn: LB_ARN, Port: port, Protocol: port === 443 ? 'HTTPS' : 'HTTP',
    ...(port === 443 ? { Certificates: [{ CertificateArn: ALB_CERTIFICATE_ARN }], SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' } : {}),
    DefaultActions: [{ Type: 'forward', TargetGroupArn: ALB_TARGET_GROUP_ARN, Order: 1 }],
  }));
  const rules: Rule[] = listeners.map((l) => ({
    RuleArn: `${l.ListenerArn!.replace(':listener/', ':listener-rule/')}/${l.Port === 443 ? '9e8d7c6b5a4f3e2d' : '1d2c3b4a5f6e7d8c'}`,
    Priority: 'default', IsDefault: true, Conditions: [], Actions: l.DefaultActions,
  }));
  const targetGroup: TargetGroup = {
    TargetGroupArn: ALB_TARGET_GROUP_ARN, TargetGroupName: 'seqas-web', Protocol: 'HTTP', Port: LAB.instance.port, VpcId: ID.vpc,
    HealthCheckProtocol: 'HTTP', HealthCheckPort: 'traffic-port', HealthCheckEnabled: true,
    HealthCheckIntervalSeconds: ALB_HEALTH_CHECK.intervalMs / 1000, HealthCheckTimeoutSeconds: ALB_HEALTH_CHECK.timeoutMs / 1000,
    HealthyThresholdCount: ALB_HEALTH_CHECK.healthyThreshold, UnhealthyThresholdCount: ALB_HEALTH_CHECK.unhealthyThreshold,
    HealthCheckPath: ALB_HEALTH_CHECK.path, Matcher: { HttpCode: ALB_HEALTH_CHECK.matcher.join(',') },
    LoadBalancerArns: [LB_ARN], TargetType: 'instance', ProtocolVersion: 'HTTP1', IpAddressType: 'ipv4',
  };
  const target = `${LAB.instance.ens5}:${LAB.instance.port}`;
  const descriptions: TargetHealthDescription[] = has('target-deregistered') ? [] : [{
    Target: { Id: ID.instance, Port: LAB.instance.port }, HealthCheckPort: String(LAB.instance.port),
    TargetHealth: targetHealthOf(o.targetHealth ?? [], target),
  }];

  const eniOf = (id: string, subnet: string, address: string, device: number): NonNullable<Instance['NetworkInterfaces']>[number] => ({
    NetworkInterfaceId: id, SubnetId: subnet, VpcId: ID.vpc, PrivateIpAddress: address, Status: 'in-use', SourceDestCheck: true,
    Groups: [{ GroupId: ID.sgWeb, GroupName: 'seqas-web' }], Attachment: { AttachmentId: `eni-attach-${id.slice(4)}`, DeviceIndex: device, Status: 'attached', DeleteOnTermination: device === 0 },
    PrivateIpAddresses: [{ PrivateIpAddress: address, Primary: true }],
  });
  const instanceEnis = [eniOf(ID.eniEns5, ID.subnetApp, LAB.instance.ens5, 0), eniOf(ID.eniEns6, ID.subnetSecondEni, LAB.secondEni.address, 1)];
  const instance: Instance = {
    InstanceId: ID.instance, ImageId: 'ami-0d64bb532e0502c46', InstanceType: 't3.small', State: { Code: 16, Name: 'running' },
    Placement: { AvailabilityZone: zoneOf('a') }, SubnetId: ID.subnetApp, VpcId: ID.vpc, PrivateIpAddress: LAB.instance.ens5,
    SourceDestCheck: true, SecurityGroups: [{ GroupId: ID.sgWeb, GroupName: 'seqas-web' }], NetworkInterfaces: instanceEnis, ...tag('seqas-web-1'),
  };
  const networkInterfaces: NetworkInterface[] = [
    ...nodes.map((n): NetworkInterface => ({
      NetworkInterfaceId: n.eni, SubnetId: n.subnet, VpcId: ID.vpc, AvailabilityZone: zoneOf(n.z), Description: `ELB ${ALB_ELB_ID}`,
      OwnerId: ACCOUNT, RequesterId: 'amazon-elb', RequesterManaged: true, Status: 'in-use', InterfaceType: 'interface', SourceDestCheck: true,
      PrivateIpAddress: n.vpc, Association: { PublicIp: n.public, IpOwnerId: 'amazon' },
      PrivateIpAddresses: [{ PrivateIpAddress: n.vpc, Primary: true, Association: { PublicIp: n.public, IpOwnerId: 'amazon' } }],
      Groups: [{ GroupId: ID.sgAlb, GroupName: 'seqas-alb' }],
    })),
    ...instanceEnis.map((e): NetworkInterface => ({
      NetworkInterfaceId: e.NetworkInterfaceId, SubnetId: e.SubnetId, VpcId: ID.vpc, AvailabilityZone: zoneOf('a'), Description: '',
      OwnerId: ACCOUNT, RequesterManaged: false, Status: 'in-use', InterfaceType: 'interface', SourceDestCheck: true,
      PrivateIpAddress: e.PrivateIpAddress, PrivateIpAddresses: e.PrivateIpAddresses, Groups: e.Groups,
      Attachment: { ...e.Attachment, InstanceId: ID.instance, InstanceOwnerId: ACCOUNT },
    })),
  ];

  const all = [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] }];
  const securityGroups: SecurityGroup[] = [
    { GroupId: ID.sgAlb, GroupName: 'seqas-alb', Description: 'the load balancer: HTTP and HTTPS from anywhere', VpcId: ID.vpc, OwnerId: ACCOUNT,
      IpPermissions: [80, 443].map((p) => ({ IpProtocol: 'tcp', FromPort: p, ToPort: p, IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] })),
      IpPermissionsEgress: all },
    { GroupId: ID.sgWeb, GroupName: 'seqas-web', Description: 'the web instances: the application port from the load balancer', VpcId: ID.vpc, OwnerId: ACCOUNT,
      IpPermissions: has('sg-block') ? [] : [{ IpProtocol: 'tcp', FromPort: LAB.instance.port, ToPort: LAB.instance.port, IpRanges: [], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [{ GroupId: ID.sgAlb, UserId: ACCOUNT }] }],
      IpPermissionsEgress: all },
  ];

  const entry = (n: number, egress: boolean, action: 'allow' | 'deny', cidr: string, proto: string, from?: number, to?: number): NonNullable<NetworkAcl['Entries']>[number] => ({
    RuleNumber: n, Egress: egress, RuleAction: action, CidrBlock: cidr, Protocol: proto, ...(from !== undefined ? { PortRange: { From: from, To: to ?? from } } : {}),
  });
  const networkAcls: NetworkAcl[] = [
    { NetworkAclId: ID.aclDefault, VpcId: ID.vpc, IsDefault: true, OwnerId: ACCOUNT,
      Entries: [entry(100, true, 'allow', '0.0.0.0/0', '-1'), entry(32767, true, 'deny', '0.0.0.0/0', '-1'), entry(100, false, 'allow', '0.0.0.0/0', '-1'), entry(32767, false, 'deny', '0.0.0.0/0', '-1')],
      Associations: [ID.subnetPublicA, ID.subnetPublicB].map((s, i) => ({ NetworkAclAssociationId: `aclassoc-0f0f00000000000${i}0`, NetworkAclId: ID.aclDefault, SubnetId: s })) },
    { NetworkAclId: ID.aclApp, VpcId: ID.vpc, IsDefault: false, OwnerId: ACCOUNT, ...tag('seqas-app'),
      Entries: [
        entry(100, false, 'allow', LAB.vpcCidr, '6', LAB.instance.port),
        entry(110, false, 'allow', '0.0.0.0/0', '6', 1024, 65535),
        entry(32767, false, 'deny', '0.0.0.0/0', '-1'),
        ...(has('nacl-ephemeral') ? [entry(90, true, 'deny', '0.0.0.0/0', '6', 1024, 65535)] : []),
        entry(100, true, 'allow', LAB.vpcCidr, '6', 1024, 65535),
        entry(110, true, 'allow', '0.0.0.0/0', '6', 443),
        entry(32767, true, 'deny', '0.0.0.0/0', '-1'),
      ],
      Associations: [ID.subnetApp, ID.subnetSecondEni].map((s, i) => ({ NetworkAclAssociationId: `aclassoc-0a5a00000000000${i}0`, NetworkAclId: ID.aclApp, SubnetId: s })) },
  ];

  const local = { DestinationCidrBlock: LAB.vpcCidr, GatewayId: 'local', State: 'active', Origin: 'CreateRouteTable' } as const;
  const routeTables: RouteTable[] = [
    { RouteTableId: ID.routeTableMain, VpcId: ID.vpc, OwnerId: ACCOUNT, Routes: [local, { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: ID.natGateway, State: 'active', Origin: 'CreateRoute' }],
      Associations: [{ Main: true, RouteTableAssociationId: 'rtbassoc-0f0f0000000000f00', RouteTableId: ID.routeTableMain, AssociationState: { State: 'associated' } }] },
    ...nodes.map((n): RouteTable => ({
      RouteTableId: n.table, VpcId: ID.vpc, OwnerId: ACCOUNT, ...tag(`seqas-public-${n.z}`),
      Routes: [local, ...(has('lb-subnet-no-route') && n.z === 'b' ? [] : [{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: ID.internetGateway, State: 'active' as const, Origin: 'CreateRoute' as const }])],
      Associations: [{ Main: false, RouteTableAssociationId: `rtbassoc-${n.table.slice(4)}`, RouteTableId: n.table, SubnetId: n.subnet, AssociationState: { State: 'associated' } }],
    })),
  ];
  const subnet = (id: string, block: string, z: 'a' | 'b', name: string): Subnet => ({
    SubnetId: id, VpcId: ID.vpc, CidrBlock: block, AvailabilityZone: zoneOf(z), State: 'available', DefaultForAz: false, MapPublicIpOnLaunch: false, OwnerId: ACCOUNT, ...tag(name),
  });
  const subnets: Subnet[] = [
    subnet(ID.subnetPublicA, SUBNETS.publicA, 'a', 'seqas-public-a'), subnet(ID.subnetPublicB, SUBNETS.publicB, 'b', 'seqas-public-b'),
    subnet(ID.subnetApp, SUBNETS.app, 'a', 'seqas-app-a'), subnet(ID.subnetSecondEni, SUBNETS.secondEni, 'a', 'seqas-app-a-2'),
  ];

  return {
    loadBalancers: [loadBalancer], listeners, rules, targetGroups: [targetGroup],
    targetHealth: [{ targetGroupArn: ALB_TARGET_GROUP_ARN, descriptions }],
    instances: [instance], securityGroups, networkAcls, routeTables, subnets, networkInterfaces, prefixLists: [],
  };
}

/** The lab's faults that are configuration changes in AWS (the others leave labAwsSnapshot as it is). */
export const CONFIG_FAULTS: readonly string[] = ['sg-block', 'nacl-ephemeral', 'target-deregistered', 'listener-missing', 'lb-subnet-no-route'];
