/**
 * `flowtrace aws-snapshot DIR [--aws-profile P] [--aws-region R] [--aws-lb NAME|ARN]`: asks
 * the AWS API the read-only describe calls follow's `--aws` makes and saves their outputs in
 * DIR as the AWS CLI would (`describe-security-groups.json`, …: docs/aws.md), for
 * `follow --aws-config DIR` later or on another machine.
 * Exit codes: 0 saved; 2 usage; 3 DIR not writable; 17 the AWS API refused or was not reached.
 */
import path from 'node:path';
import { AWS_IAM_ACTIONS, describeParts, fetchAwsConfig, writeAwsConfigDir } from '../../aws/index.js';
import { EXIT, UsageError } from '../../errors.js';
import type { CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';
import { quietAwsSdk } from './aws-options.js';

const HELP = `usage: flowtrace aws-snapshot DIR [options]

Asks the AWS API (the SDK's usual credentials: environment, ~/.aws/config and credentials,
SSO, the instance's role) the read-only calls follow --aws makes and saves each answer in
DIR, named after the AWS CLI command that prints it (describe-load-balancers.json, …,
docs/aws.md). follow --aws-config DIR reads them back.

options:
  --aws-profile NAME    the profile to use (default: AWS_PROFILE, else default)
  --aws-region REGION   the region (default: AWS_REGION, else the profile's)
  --aws-lb NAME|ARN     only this load balancer, what it routes to and its VPC (default: the region)
IAM actions needed (read-only): ${AWS_IAM_ACTIONS.join(', ')}
exit codes: 0 saved; 2 usage; 3 DIR not writable; 17 the AWS API refused or was not reached
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('aws-snapshot', {
    args, allowPositionals: true,
    options: { 'aws-profile': { type: 'string' }, 'aws-region': { type: 'string' }, 'aws-lb': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) { io.stdout(HELP); return EXIT.ok; }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'aws-snapshot needs a folder' : `aws-snapshot takes one folder, got ${positionals.length}`, 'flowtrace aws-snapshot DIR [--aws-profile NAME] [--aws-region REGION]');
  quietAwsSdk();
  const dir = path.resolve(io.cwd, positionals[0]!);
  const snapshot = await fetchAwsConfig({ profile: values['aws-profile'] ?? null, region: values['aws-region'] ?? null, loadBalancer: values['aws-lb'] ?? null });
  const files = writeAwsConfigDir(dir, snapshot);
  const n = (list: unknown[] | null): number => list?.length ?? 0;
  io.stdout(`${dir}: ${files.length} files (${describeParts(snapshot).read.length} describe outputs)\n`
    + `  ${n(snapshot.loadBalancers)} load balancers, ${n(snapshot.listeners)} listeners, ${n(snapshot.rules)} rules, ${n(snapshot.targetGroups)} target groups, `
    + `${n(snapshot.instances)} instances, ${n(snapshot.securityGroups)} security groups, ${n(snapshot.networkAcls)} network ACLs, ${n(snapshot.routeTables)} route tables, `
    + `${n(snapshot.subnets)} subnets, ${n(snapshot.networkInterfaces)} network interfaces, ${n(snapshot.prefixLists)} prefix lists\n`
    + `use it: flowtrace follow URL --aws-config ${positionals[0]}\n`);
  return EXIT.ok;
}
