/**
 * The AWS CLI's JSON output, one file per command, in one folder:
 *
 *   describe-load-balancers.json      aws elbv2 describe-load-balancers
 *   describe-listeners.json           aws elbv2 describe-listeners --load-balancer-arn ARN
 *   describe-rules.json               aws elbv2 describe-rules --listener-arn ARN
 *   describe-target-groups.json       aws elbv2 describe-target-groups
 *   describe-target-health.NAME.json  aws elbv2 describe-target-health --target-group-arn ARN (NAME: the group's name)
 *   describe-instances.json           aws ec2 describe-instances
 *   describe-security-groups.json     aws ec2 describe-security-groups
 *   describe-network-acls.json        aws ec2 describe-network-acls
 *   describe-route-tables.json        aws ec2 describe-route-tables
 *   describe-subnets.json             aws ec2 describe-subnets
 *   describe-network-interfaces.json  aws ec2 describe-network-interfaces
 *   get-managed-prefix-list-entries.PL-ID.json   aws ec2 get-managed-prefix-list-entries --prefix-list-id PL-ID
 *
 * A command asked several times (one load balancer's listeners, then another's) may be saved
 * as `COMMAND.ANYTHING.json` next to `COMMAND.json`: their lists are joined. The outputs whose
 * answer does not name what was asked about (target health, prefix-list entries) name it in
 * the file (`describe-target-health.json` alone is fine with one target group).
 * The shapes are AWS's API outputs (PascalCase, as the AWS CLI prints them and the SDK types them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { AwsConfigError } from '../errors.js';
import type { AwsSnapshot, PrefixListEntries, SnapshotPart, TargetHealthSet } from './types.js';

/** One describe call: its file name (the AWS CLI command), its service, the list it answers with. */
export interface AwsCommand {
  /** `describe-security-groups`: the file is `describe-security-groups.json`. */
  command: string;
  service: 'elbv2' | 'ec2';
  /** The API action (for IAM: `elasticloadbalancing:DescribeLoadBalancers`, `ec2:DescribeSecurityGroups`). */
  action: string;
  /** The output's top-level list. */
  key: string;
  part: SnapshotPart;
}

export const AWS_COMMANDS: readonly AwsCommand[] = [
  { command: 'describe-load-balancers', service: 'elbv2', action: 'DescribeLoadBalancers', key: 'LoadBalancers', part: 'loadBalancers' },
  { command: 'describe-listeners', service: 'elbv2', action: 'DescribeListeners', key: 'Listeners', part: 'listeners' },
  { command: 'describe-rules', service: 'elbv2', action: 'DescribeRules', key: 'Rules', part: 'rules' },
  { command: 'describe-target-groups', service: 'elbv2', action: 'DescribeTargetGroups', key: 'TargetGroups', part: 'targetGroups' },
  { command: 'describe-target-health', service: 'elbv2', action: 'DescribeTargetHealth', key: 'TargetHealthDescriptions', part: 'targetHealth' },
  { command: 'describe-instances', service: 'ec2', action: 'DescribeInstances', key: 'Reservations', part: 'instances' },
  { command: 'describe-security-groups', service: 'ec2', action: 'DescribeSecurityGroups', key: 'SecurityGroups', part: 'securityGroups' },
  { command: 'describe-network-acls', service: 'ec2', action: 'DescribeNetworkAcls', key: 'NetworkAcls', part: 'networkAcls' },
  { command: 'describe-route-tables', service: 'ec2', action: 'DescribeRouteTables', key: 'RouteTables', part: 'routeTables' },
  { command: 'describe-subnets', service: 'ec2', action: 'DescribeSubnets', key: 'Subnets', part: 'subnets' },
  { command: 'describe-network-interfaces', service: 'ec2', action: 'DescribeNetworkInterfaces', key: 'NetworkInterfaces', part: 'networkInterfaces' },
  { command: 'get-managed-prefix-list-entries', service: 'ec2', action: 'GetManagedPrefixListEntries', key: 'Entries', part: 'prefixLists' },
];

/** The IAM actions the read needs (README, docs/aws.md). */
export const AWS_IAM_ACTIONS: readonly string[] = AWS_COMMANDS.map((c) => `${c.service === 'elbv2' ? 'elasticloadbalancing' : 'ec2'}:${c.action}`);

/** The describe command whose output holds a snapshot part (for "not read" facts). */
export function commandOf(part: SnapshotPart): string {
  return AWS_COMMANDS.find((c) => c.part === part)!.command;
}

/** A file bigger than this is not an AWS CLI output flowtrace reads (a safety bound, not a limit of AWS). */
const MAX_FILE_BYTES = 256 * 1024 * 1024;

export function emptySnapshot(): AwsSnapshot {
  return {
    loadBalancers: null, listeners: null, rules: null, targetGroups: null, targetHealth: null, instances: null,
    securityGroups: null, networkAcls: null, routeTables: null, subnets: null, networkInterfaces: null, prefixLists: null,
  };
}

export interface ReadAwsConfigResult {
  snapshot: AwsSnapshot;
  /** The files read, relative to the folder. */
  files: string[];
}

/**
 * Reads a folder of AWS CLI outputs. Throws AwsConfigError when the folder is missing, holds
 * none of the outputs, or a file is not JSON of the command's shape (naming the file).
 */
export function readAwsConfigDir(dir: string): ReadAwsConfigResult {
  let names: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) throw new Error('not a folder');
    names = fs.readdirSync(dir).sort();
  } catch (err) {
    throw new AwsConfigError('AWS_CONFIG_DIR', `cannot read the AWS configuration folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'give a folder of AWS CLI outputs (`flowtrace aws-snapshot DIR` writes one; docs/aws.md lists the file names)', { dir });
  }
  const snapshot = emptySnapshot();
  const files: string[] = [];
  for (const cmd of AWS_COMMANDS) {
    const mine = names.filter((n) => n === `${cmd.command}.json` || (n.startsWith(`${cmd.command}.`) && n.endsWith('.json')));
    for (const name of mine) {
      const suffix = name === `${cmd.command}.json` ? null : name.slice(cmd.command.length + 1, -'.json'.length);
      const list = readList(path.join(dir, name), cmd);
      addToSnapshot(snapshot, cmd, list, suffix, name);
      files.push(name);
    }
  }
  if (files.length === 0) {
    throw new AwsConfigError('AWS_CONFIG_EMPTY', `no AWS CLI output in ${dir}`,
      `save the outputs as ${AWS_COMMANDS.slice(0, 3).map((c) => `${c.command}.json`).join(', ')}, … (docs/aws.md), or run \`flowtrace aws-snapshot ${dir}\``, { dir });
  }
  // Target health saved without the group's name: only one group can be meant.
  const health = snapshot.targetHealth;
  if (health) {
    for (const set of health) {
      if (set.targetGroupArn !== '') continue;
      const groups = snapshot.targetGroups ?? [];
      if (groups.length !== 1) {
        throw new AwsConfigError('AWS_CONFIG_AMBIGUOUS', `describe-target-health.json in ${dir} does not say which target group it is about (${groups.length} target groups)`,
          'save each group\'s health as describe-target-health.GROUP-NAME.json', { dir });
      }
      set.targetGroupArn = groups[0]!.TargetGroupArn ?? '';
    }
  }
  return { snapshot, files };
}

function readList(file: string, cmd: AwsCommand): unknown[] {
  const malformed = (why: string): AwsConfigError => new AwsConfigError('AWS_CONFIG_MALFORMED', `${path.basename(file)} is not the output of \`aws ${cmd.service} ${cmd.command}\`: ${why}`,
    `save it again with \`aws ${cmd.service} ${cmd.command} --output json > ${path.basename(file)}\``, { file });
  let text: string;
  try {
    if (fs.statSync(file).size > MAX_FILE_BYTES) throw malformed(`bigger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof AwsConfigError) throw err;
    throw new AwsConfigError('AWS_CONFIG_DIR', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the file\'s permissions', { file });
  }
  let json: unknown;
  try { json = JSON.parse(text); } catch (err) { throw malformed(`not JSON (${(err as Error).message.split('\n')[0]})`); }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw malformed('not a JSON object');
  const list = (json as Record<string, unknown>)[cmd.key];
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw malformed(`${cmd.key} is not a list`);
  for (const item of list) if (item === null || typeof item !== 'object' || Array.isArray(item)) throw malformed(`an item of ${cmd.key} is not an object`);
  return list;
}

function addToSnapshot(s: AwsSnapshot, cmd: AwsCommand, list: unknown[], suffix: string | null, file: string): void {
  switch (cmd.part) {
    case 'targetHealth': {
      // The group is named by the file: its name (or the last part of its ARN).
      const groups = s.targetGroups ?? [];
      const arn = suffix === null ? '' : groups.find((g) => g.TargetGroupName === suffix || g.TargetGroupArn?.endsWith(`/${suffix}`))?.TargetGroupArn ?? `targetgroup/${suffix}`;
      const set: TargetHealthSet = { targetGroupArn: arn, descriptions: list as TargetHealthSet['descriptions'] };
      (s.targetHealth ??= []).push(set);
      return;
    }
    case 'prefixLists': {
      if (suffix === null || !/^pl-[0-9a-z]+$/.test(suffix)) {
        throw new AwsConfigError('AWS_CONFIG_AMBIGUOUS', `${file} does not say which prefix list it is about`, 'save it as get-managed-prefix-list-entries.pl-ID.json', { file });
      }
      const set: PrefixListEntries = { prefixListId: suffix, entries: list as PrefixListEntries['entries'] };
      (s.prefixLists ??= []).push(set);
      return;
    }
    case 'instances': {
      const instances = (list as Array<{ Instances?: unknown }>).flatMap((r) => (Array.isArray(r.Instances) ? r.Instances : []));
      (s.instances ??= []).push(...(instances as NonNullable<AwsSnapshot['instances']>));
      return;
    }
    default: {
      const target = (s[cmd.part] ??= []) as unknown[];
      target.push(...list);
    }
  }
}

/**
 * The files of a snapshot, named and shaped as `readAwsConfigDir` reads them back (what
 * `flowtrace aws-snapshot` and `flowtrace lab aws-config` write): name → JSON text.
 */
export function snapshotFiles(s: AwsSnapshot): Map<string, string> {
  const out = new Map<string, string>();
  const put = (name: string, body: unknown): void => { out.set(name, JSON.stringify(body, null, 2) + '\n'); };
  for (const cmd of AWS_COMMANDS) {
    const value = s[cmd.part];
    if (value === null) continue;
    switch (cmd.part) {
      case 'targetHealth':
        for (const set of s.targetHealth!) {
          const name = (s.targetGroups ?? []).find((g) => g.TargetGroupArn === set.targetGroupArn)?.TargetGroupName ?? set.targetGroupArn.split('/').pop() ?? 'group';
          put(`${cmd.command}.${name}.json`, { [cmd.key]: set.descriptions });
        }
        break;
      case 'prefixLists':
        for (const set of s.prefixLists!) put(`${cmd.command}.${set.prefixListId}.json`, { [cmd.key]: set.entries });
        break;
      case 'instances':
        // One reservation per instance: what describe-instances returns for instances launched one by one.
        put(`${cmd.command}.json`, { [cmd.key]: s.instances!.map((i) => ({ ReservationId: `r-${(i.InstanceId ?? '').replace(/^i-/, '')}`, Instances: [i] })) });
        break;
      default:
        put(`${cmd.command}.json`, { [cmd.key]: value });
    }
  }
  return out;
}

/** Writes a snapshot's files into `dir` (made when missing); returns the names written. */
export function writeAwsConfigDir(dir: string, s: AwsSnapshot): string[] {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const files = snapshotFiles(s);
    // Outputs of an earlier snapshot that this one does not have would be read with it.
    for (const old of fs.readdirSync(dir)) {
      if (!files.has(old) && AWS_COMMANDS.some((c) => old === `${c.command}.json` || (old.startsWith(`${c.command}.`) && old.endsWith('.json')))) fs.rmSync(path.join(dir, old));
    }
    for (const [name, text] of files) fs.writeFileSync(path.join(dir, name), text);
    return [...files.keys()];
  } catch (err) {
    throw new AwsConfigError('AWS_CONFIG_WRITE', `cannot write the AWS configuration to ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'give a writable folder', { dir });
  }
}
