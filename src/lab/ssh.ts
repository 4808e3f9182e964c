/**
 * The lab's ssh access, the way an operator reaches an EC2 instance: OpenSSH's sshd on the
 * bastion (ft-bastion, its public address) and on the instance (ft-ec2, ens5's address),
 * reached from the client with ProxyJump through the bastion.
 *
 * Made at `lab up` in LAB_SSH.dir (removed with the run directory at `lab down`): a host key
 * per sshd and the operator's key (ssh-keygen), a known_hosts with both host keys, an
 * ssh_config with the aliases `lab-bastion` and `lab-ec2` (flowtrace reads it through
 * FLOWTRACE_SSH_CONFIG), and a non-root user `ftlab` whose PATH holds only the programs
 * docs/agent.md lists (symlinks: no flowtrace there) and whose sudoers drop-in holds exactly
 * the documented lines (remote/'s `sudoersLines`, for the paths its PATH gives). The user and
 * the drop-in are removed at `lab down`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REMOTE_PROGRAMS, sudoersLines, type ProgramPaths } from '../remote/index.js';
import { LAB } from './topology.js';
import { run, runChecked } from './system.js';

export const LAB_SSH = {
  dir: path.join(LAB.runDir, 'ssh'),
  user: 'ftlab',
  /** The ssh_config an operator's flowtrace reads (FLOWTRACE_SSH_CONFIG). */
  config: path.join(LAB.runDir, 'ssh', 'config'),
  /** `follow --server` for the instance through the bastion. */
  target: 'ssh://lab-ec2',
  sudoers: '/etc/sudoers.d/flowtrace-lab',
} as const;

/** Shell tools the user's scripts use besides the listed programs (remote/preflight.ts, remote/engine.ts, remote/runner.ts). */
const SHELL_TOOLS = ['sh', 'id', 'grep', 'sed', 'head', 'wc', 'mktemp', 'rm', 'sudo'];

const HOME = (): string => path.join(LAB_SSH.dir, 'home');
const BIN = (): string => path.join(LAB_SSH.dir, 'bin');

function findProgram(program: string): string | null {
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/sbin']) {
    const p = path.join(dir, program);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** sshd's configuration for the bastion (forwarding only) or the instance. */
export function sshdConfig(node: 'bastion' | 'ec2'): string {
  const address = node === 'bastion' ? LAB.bastion.public : LAB.instance.ens5;
  return [
    `ListenAddress ${address}:22`,
    `HostKey ${path.join(LAB_SSH.dir, `host-${node}`)}`,
    `AuthorizedKeysFile ${path.join(LAB_SSH.dir, 'authorized_keys')}`,
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'PidFile none', 'PrintMotd no',
    `AllowUsers ${LAB_SSH.user}`,
    // A session whose client vanished is ended (flowtrace's own watchdog ends the capture before).
    'ClientAliveInterval 5', 'ClientAliveCountMax 3',
    ...(node === 'bastion'
      ? ['AllowTcpForwarding yes', 'PermitTTY no', 'ForceCommand /bin/false']
      : ['AllowTcpForwarding no', `SetEnv PATH=${BIN()}`]),
    '',
  ].join('\n');
}

export function sshdConfigFile(node: 'bastion' | 'ec2'): string {
  return path.join(LAB_SSH.dir, `sshd-${node}.conf`);
}

/** Makes the keys, the user, its PATH and sudoers lines, the sshd configs and the operator's ssh_config. */
export async function makeSshAccess(): Promise<void> {
  await removeSshUser();
  const dir = LAB_SSH.dir;
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755); // sshd's StrictModes: root-owned, not group/world-writable, all the way up
  fs.mkdirSync(HOME(), { mode: 0o755 });
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation directory (its package's service makes it at boot)
  fs.mkdirSync(BIN(), { mode: 0o755 });
  await Promise.all(['host-bastion', 'host-ec2', 'operator'].map((k) =>
    runChecked(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `flowtrace lab ${k}`, '-f', path.join(dir, k)], `making the lab's ssh key ${k}`)));
  fs.copyFileSync(path.join(dir, 'operator.pub'), path.join(dir, 'authorized_keys'));
  fs.chmodSync(path.join(dir, 'authorized_keys'), 0o644);

  const paths: ProgramPaths = {};
  for (const program of [...REMOTE_PROGRAMS, ...SHELL_TOOLS]) {
    const target = findProgram(program);
    if (target === null) continue; // docker, nft…: not installed here, not on the user's PATH either
    fs.symlinkSync(target, path.join(BIN(), program));
    if ((REMOTE_PROGRAMS as readonly string[]).includes(program)) paths[program as keyof ProgramPaths] = path.join(BIN(), program);
  }
  await runChecked(['useradd', '-M', '-d', HOME(), '-s', '/bin/sh', '-c', 'flowtrace lab operator', LAB_SSH.user], 'adding the lab user');
  // Not locked (sshd refuses a `!` password even for keys), no password either.
  await runChecked(['usermod', '-p', '*', LAB_SSH.user], 'unlocking the lab user');
  const sudoers = `# flowtrace lab: the commands of the agentless path (docs/agent.md), for ${LAB_SSH.user}\n${sudoersLines(LAB_SSH.user, paths).join('\n')}\n`;
  const tmp = `${LAB_SSH.sudoers}.tmp`;
  fs.writeFileSync(tmp, sudoers, { mode: 0o440 });
  await runChecked(['visudo', '-c', '-q', '-f', tmp], 'checking the lab\'s sudoers lines');
  fs.renameSync(tmp, LAB_SSH.sudoers);

  for (const node of ['bastion', 'ec2'] as const) fs.writeFileSync(sshdConfigFile(node), sshdConfig(node));
  const hostKey = (node: string): string => fs.readFileSync(path.join(dir, `host-${node}.pub`), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  fs.writeFileSync(path.join(dir, 'known_hosts'), `${LAB.bastion.public} ${hostKey('bastion')}\n${LAB.instance.ens5} ${hostKey('ec2')}\n`);
  const common = [
    `  User ${LAB_SSH.user}`, `  IdentityFile ${path.join(dir, 'operator')}`, '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`, '  GlobalKnownHostsFile /dev/null',
  ];
  fs.writeFileSync(LAB_SSH.config, [
    '# flowtrace lab: the operator\'s way to the instance (FLOWTRACE_SSH_CONFIG, or ssh -F)',
    'Host lab-bastion', `  HostName ${LAB.bastion.public}`, ...common,
    'Host lab-ec2', `  HostName ${LAB.instance.ens5}`, '  ProxyJump lab-bastion', ...common, '',
  ].join('\n'), { mode: 0o644 });
}

/** Removes the user and its sudoers drop-in (idempotent; the files go with the run directory). */
export async function removeSshUser(): Promise<void> {
  fs.rmSync(LAB_SSH.sudoers, { force: true });
  fs.rmSync(`${LAB_SSH.sudoers}.tmp`, { force: true });
  const r = await run(['id', '-u', LAB_SSH.user]);
  if (r.code === 0) await runChecked(['userdel', LAB_SSH.user], 'removing the lab user');
}
