/**
 * A hand-written configuration (the shapes of the AWS CLI's describe outputs): an
 * internet-facing ALB `web-alb` in two public subnets (10.0.0.0/24 in eu-west-1a,
 * 10.0.1.0/24 in eu-west-1b) with its group sg-alb, listeners HTTP:80 and HTTPS:443, a rule
 * for /api/* to another group; one instance i-web in a private subnet 10.0.10.0/24 (sg-web:
 * tcp 8080 from sg-alb), NACLs and route tables the way a two-tier VPC has them. Every test
 * takes a fresh copy and breaks one thing.
 */
import type { AwsSnapshot } from '../../src/aws/index.js';

const ARN = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333';
export const LB_ARN = `${ARN}:loadbalancer/app/web-alb/0123456789abcdef`;
export const L80 = `${ARN}:listener/app/web-alb/0123456789abcdef/aaaa000000000080`;
export const L443 = `${ARN}:listener/app/web-alb/0123456789abcdef/aaaa000000000443`;
export const TG_WEB = `${ARN}:targetgroup/web/1111111111111111`;
export const TG_API = `${ARN}:targetgroup/api/2222222222222222`;

export const NODE_A = { private: '10.0.0.10', public: '203.0.113.10' };
export const NODE_B = { private: '10.0.1.10', public: '203.0.113.20' };
export const WEB = '10.0.10.5';
export const API = '10.0.11.7';

const local = { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active', Origin: 'CreateRouteTable' } as const;

export function baseSnapshot(): AwsSnapshot {
  const s: AwsSnapshot = {
    loadBalancers: [{
      LoadBalancerArn: LB_ARN, DNSName: 'web-alb-1234567890.eu-west-1.elb.amazonaws.com', LoadBalancerName: 'web-alb',
      Scheme: 'internet-facing', VpcId: 'vpc-1', State: { Code: 'active' }, Type: 'application', IpAddressType: 'ipv4',
      AvailabilityZones: [{ ZoneName: 'eu-west-1a', SubnetId: 'subnet-pub-a' }, { ZoneName: 'eu-west-1b', SubnetId: 'subnet-pub-b' }],
      SecurityGroups: ['sg-alb'],
    }],
    listeners: [
      { ListenerArn: L80, LoadBalancerArn: LB_ARN, Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_WEB }] },
      { ListenerArn: L443, LoadBalancerArn: LB_ARN, Port: 443, Protocol: 'HTTPS', DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_WEB }] },
    ],
    rules: [
      { RuleArn: `${L80.replace(':listener/', ':listener-rule/')}/r0000000000000010`, Priority: '10', IsDefault: false,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } }], Actions: [{ Type: 'forward', Order: 1, TargetGroupArn: TG_API }] },
      { RuleArn: `${L80.replace(':listener/', ':listener-rule/')}/rdefault00000080`, Priority: 'default', IsDefault: true, Conditions: [], Actions: [{ Type: 'forward', TargetGroupArn: TG_WEB }] },
      { RuleArn: `${L443.replace(':listener/', ':listener-rule/')}/rdefault00000443`, Priority: 'default', IsDefault: true, Conditions: [], Actions: [{ Type: 'forward', TargetGroupArn: TG_WEB }] },
    ],
    targetGroups: [
      { TargetGroupArn: TG_WEB, TargetGroupName: 'web', Protocol: 'HTTP', Port: 8080, VpcId: 'vpc-1', TargetType: 'instance', LoadBalancerArns: [LB_ARN] },
      { TargetGroupArn: TG_API, TargetGroupName: 'api', Protocol: 'HTTP', Port: 9000, VpcId: 'vpc-1', TargetType: 'ip', LoadBalancerArns: [LB_ARN] },
    ],
    targetHealth: [
      { targetGroupArn: TG_WEB, descriptions: [{ Target: { Id: 'i-web', Port: 8080 }, HealthCheckPort: '8080', TargetHealth: { State: 'healthy' } }] },
      { targetGroupArn: TG_API, descriptions: [{ Target: { Id: API, Port: 9000, AvailabilityZone: 'eu-west-1b' }, HealthCheckPort: '9000', TargetHealth: { State: 'healthy' } }] },
    ],
    instances: [{
      InstanceId: 'i-web', SubnetId: 'subnet-app', VpcId: 'vpc-1', PrivateIpAddress: WEB, State: { Name: 'running' },
      SecurityGroups: [{ GroupId: 'sg-web', GroupName: 'web' }],
      NetworkInterfaces: [{ NetworkInterfaceId: 'eni-web', SubnetId: 'subnet-app', VpcId: 'vpc-1', PrivateIpAddress: WEB, Attachment: { DeviceIndex: 0 }, Groups: [{ GroupId: 'sg-web' }] }],
    }],
    securityGroups: [
      { GroupId: 'sg-alb', GroupName: 'alb', VpcId: 'vpc-1',
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }, { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] },
      { GroupId: 'sg-web', GroupName: 'web', VpcId: 'vpc-1',
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: 'sg-alb', UserId: '111122223333' }] }],
        IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] },
      { GroupId: 'sg-api', GroupName: 'api', VpcId: 'vpc-1',
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 9000, ToPort: 9000, IpRanges: [{ CidrIp: '10.0.0.0/23' }] }],
        IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] },
    ],
    networkAcls: [
      { NetworkAclId: 'acl-default', VpcId: 'vpc-1', IsDefault: true,
        Entries: [
          { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0' },
          { RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', Egress: false, CidrBlock: '0.0.0.0/0' },
          { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: true, CidrBlock: '0.0.0.0/0' },
          { RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', Egress: true, CidrBlock: '0.0.0.0/0' },
        ],
        Associations: [{ NetworkAclId: 'acl-default', SubnetId: 'subnet-pub-a' }, { NetworkAclId: 'acl-default', SubnetId: 'subnet-pub-b' }, { NetworkAclId: 'acl-default', SubnetId: 'subnet-api' }] },
      { NetworkAclId: 'acl-app', VpcId: 'vpc-1', IsDefault: false,
        Entries: [
          { RuleNumber: 100, Protocol: '6', RuleAction: 'allow', Egress: false, CidrBlock: '10.0.0.0/16', PortRange: { From: 8080, To: 8080 } },
          { RuleNumber: 110, Protocol: '6', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0', PortRange: { From: 1024, To: 65535 } },
          { RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', Egress: false, CidrBlock: '0.0.0.0/0' },
          { RuleNumber: 100, Protocol: '6', RuleAction: 'allow', Egress: true, CidrBlock: '10.0.0.0/16', PortRange: { From: 1024, To: 65535 } },
          { RuleNumber: 110, Protocol: '6', RuleAction: 'allow', Egress: true, CidrBlock: '0.0.0.0/0', PortRange: { From: 443, To: 443 } },
          { RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', Egress: true, CidrBlock: '0.0.0.0/0' },
        ],
        Associations: [{ NetworkAclId: 'acl-app', SubnetId: 'subnet-app' }] },
    ],
    routeTables: [
      { RouteTableId: 'rtb-main', VpcId: 'vpc-1', Routes: [local, { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' }],
        Associations: [{ Main: true, RouteTableId: 'rtb-main' }] },
      { RouteTableId: 'rtb-public', VpcId: 'vpc-1', Routes: [local, { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', State: 'active' }],
        Associations: [{ Main: false, SubnetId: 'subnet-pub-a', RouteTableId: 'rtb-public' }, { Main: false, SubnetId: 'subnet-pub-b', RouteTableId: 'rtb-public' }] },
    ],
    subnets: [
      { SubnetId: 'subnet-pub-a', VpcId: 'vpc-1', CidrBlock: '10.0.0.0/24', AvailabilityZone: 'eu-west-1a' },
      { SubnetId: 'subnet-pub-b', VpcId: 'vpc-1', CidrBlock: '10.0.1.0/24', AvailabilityZone: 'eu-west-1b' },
      { SubnetId: 'subnet-app', VpcId: 'vpc-1', CidrBlock: '10.0.10.0/24', AvailabilityZone: 'eu-west-1a' },
      { SubnetId: 'subnet-api', VpcId: 'vpc-1', CidrBlock: '10.0.11.0/24', AvailabilityZone: 'eu-west-1b' },
    ],
    networkInterfaces: [
      { NetworkInterfaceId: 'eni-alb-a', SubnetId: 'subnet-pub-a', VpcId: 'vpc-1', AvailabilityZone: 'eu-west-1a', Description: 'ELB app/web-alb/0123456789abcdef',
        PrivateIpAddress: NODE_A.private, Association: { PublicIp: NODE_A.public }, Groups: [{ GroupId: 'sg-alb' }], InterfaceType: 'interface', RequesterId: 'amazon-elb' },
      { NetworkInterfaceId: 'eni-alb-b', SubnetId: 'subnet-pub-b', VpcId: 'vpc-1', AvailabilityZone: 'eu-west-1b', Description: 'ELB app/web-alb/0123456789abcdef',
        PrivateIpAddress: NODE_B.private, Association: { PublicIp: NODE_B.public }, Groups: [{ GroupId: 'sg-alb' }], InterfaceType: 'interface', RequesterId: 'amazon-elb' },
      { NetworkInterfaceId: 'eni-web', SubnetId: 'subnet-app', VpcId: 'vpc-1', AvailabilityZone: 'eu-west-1a', PrivateIpAddress: WEB,
        Attachment: { InstanceId: 'i-web', DeviceIndex: 0 }, Groups: [{ GroupId: 'sg-web' }] },
      { NetworkInterfaceId: 'eni-api', SubnetId: 'subnet-api', VpcId: 'vpc-1', AvailabilityZone: 'eu-west-1b', PrivateIpAddress: API, Groups: [{ GroupId: 'sg-api' }] },
    ],
    prefixLists: [],
  };
  return structuredClone(s);
}
