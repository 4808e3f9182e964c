/**
 * A real OpenSSH server for tests, on the miniature EC2 host of test/capture-live/host.ts
 * built with the prefix `fttssh-` (an ALB namespace, the EC2 host with ens5, docker0, a veth
 * and Docker's NAT, a container with an HTTP server on 8080 published as 80): sshd -D runs in
 * the EC2 namespace on ens5's address, the ssh client runs in the ALB namespace — where an
 * operator's machine would be.
 *
 * Made at start, removed by destroy(): a host key and user keys (ssh-keygen, in a private
 * directory under /run), non-root users — `ok` with exactly the sudoers lines flowtrace
 * documents (a drop-in in /etc/sudoers.d), `nosudo` with none, `notcpdump` whose PATH has no
 * tcpdump, `partial` allowed the capture only, `agent` with the documented lines and also a
 * `flowtrace` on its PATH (this checkout's CLI) that sudo allows as `flowtrace agent` — each
 * with a PATH of symlinks to the programs docs/agent.md lists (so no flowtrace on it but
 * `agent`'s), and an ssh_config with aliases (ok, nosudo, notcpdump, badkey,
 * unknownhost, jump: ProxyJump through the sshd to the server's loopback). Everything runs by PID and is ended
 * by PID; the namespaces are deleted; the users and the sudoers drop-in removed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEBIAN_PATHS, REMOTE_PROGRAMS, sudoersLines, type ProgramPaths } from '../../src/remote/index.js';
import { buildMiniHost, HOST, type MiniHost } from '../capture-live/host.js';
import { PACKAGE_ROOT, selfCliArgv } from '../../src/self.js';

export const SSHD_PREFIX = 'fttssh-';

export function isRoot(): boolean { return process.getuid?.() === 0; }

/** The programs a user's PATH holds: those flowtrace runs, and the shell tools its scripts use. */
const SHELL_TOOLS = ['sh', 'id', 'grep', 'sed', 'head', 'wc', 'mktemp', 'rm', 'sudo', 'true', 'sleep'];

function sh(argv: string[], input?: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input, timeout: 20_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
  return r.stdout;
}

function which(program: string): string {
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/sbin']) {
    const p = path.join(dir, program);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${program} is not installed (scripts/setup.sh installs what the tests need)`);
}

export interface TestSshd {
  prefix: string;
  /** The namespaces: the server (the mini host's ec2) and the client (its alb). */
  srv: string;
  cli: string;
  host: MiniHost;
  address: string;
  dir: string;
  /** ssh_config with the aliases (FLOWTRACE_SSH_CONFIG). */
  configFile: string;
  users: { ok: string; nosudo: string; notcpdump: string; partial: string; agent: string };
  /** The paths `command -v` finds for user ok (its sudoers lines are written for them). */
  okPaths: ProgramPaths;
  sshdPid: number;
  /** The sudoers lines user ok was given. */
  sudoers: string[];
  /** argv run in the client namespace with FLOWTRACE_SSH_CONFIG set. */
  inClient(argv: string[]): string[];
  env(): NodeJS.ProcessEnv;
  /** Processes of a namespace: pid, command name, command line. */
  processes(which: 'srv' | 'cli'): Array<{ pid: number; comm: string; cmdline: string }>;
  destroy(): void;
}

/** Starts sshd on a fresh miniature EC2 host (root only). */
/** Users, sudoers drop-ins and directories of a previous run killed hard (only one run of this helper at a time: the namespaces have fixed names). */
function removeStaleLeftovers(): void {
  for (const u of fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')[0]!).filter((u) => u.startsWith(SSHD_PREFIX))) {
    spawnSync('userdel', ['-f', u]);
  }
  for (const f of fs.readdirSync('/etc/sudoers.d').filter((f) => f.startsWith(SSHD_PREFIX))) fs.rmSync(path.join('/etc/sudoers.d', f), { force: true });
  for (const d of fs.readdirSync('/run').filter((f) => f.startsWith(SSHD_PREFIX))) fs.rmSync(path.join('/run', d), { recursive: true, force: true });
}

/** Waits (up to `ms`) until none of `pids` exists, zombies included: userdel refuses a user with a process left. */
function waitGone(pids: number[], ms: number): void {
  const until = performance.now() + ms;
  while (pids.some((pid) => fs.existsSync(`/proc/${pid}`)) && performance.now() < until) spawnSync('sleep', ['0.05']);
}

export async function startSshd(): Promise<TestSshd> {
  removeStaleLeftovers();
  const host = await buildMiniHost(SSHD_PREFIX);
  const prefix = SSHD_PREFIX;
  const srv = host.ec2;
  const cli = host.alb;
  const address = HOST.ens5Address;
  const short = String(process.pid % 100000);
  const users = { ok: `fttssh-ok${short}`, nosudo: `fttssh-ns${short}`, notcpdump: `fttssh-nt${short}`, partial: `fttssh-pa${short}`, agent: `fttssh-ag${short}` };
  const dir = fs.mkdtempSync('/run/fttssh-');
  fs.chmodSync(dir, 0o755);
  const sudoersFile = `/etc/sudoers.d/fttssh-${short}`;
  const made = { users: [] as string[] };
  let sshd: ChildProcess | null = null;

  const destroy = (): void => {
    if (sshd?.pid && sshd.exitCode === null && sshd.signalCode === null) { try { process.kill(sshd.pid, 'SIGTERM'); } catch { /* gone */ } }
    // Session processes sshd started in the server's namespace, by the PIDs listed there.
    const pids = (spawnSync('ip', ['netns', 'pids', srv], { encoding: 'utf8' }).stdout?.split('\n').filter((l) => /^\d+$/.test(l)) ?? []).map(Number);
    for (const p of pids) if (p !== host.server.pid) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    fs.rmSync(sudoersFile, { force: true });
    try { host.destroy(); } finally {
      waitGone(pids, 2000);
      for (const u of made.users) spawnSync('userdel', ['-f', u]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    // Keys.
    for (const k of ['hostkey', 'userkey', 'otherkey']) sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', k, '-f', path.join(dir, k)]);
    const keysDir = path.join(dir, 'keys');
    fs.mkdirSync(keysDir, { mode: 0o755 });
    const home = path.join(dir, 'home');
    fs.mkdirSync(home, { mode: 0o755 });

    // Users' PATHs: symlinks to the programs (no flowtrace); one without tcpdump.
    const bin = path.join(dir, 'bin');
    const binNoTcpdump = path.join(dir, 'bin-notcpdump');
    for (const d of [bin, binNoTcpdump]) fs.mkdirSync(d, { mode: 0o755 });
    const okPaths: ProgramPaths = {};
    for (const program of [...REMOTE_PROGRAMS.filter((p) => p !== 'docker'), ...SHELL_TOOLS]) {
      const target = which(program);
      fs.symlinkSync(target, path.join(bin, program));
      if (program !== 'tcpdump') fs.symlinkSync(target, path.join(binNoTcpdump, program));
      if ((REMOTE_PROGRAMS as readonly string[]).includes(program)) okPaths[program as keyof ProgramPaths] = path.join(bin, program);
    }
    // Programs found in the sbin directories the preflight adds are found there instead.
    for (const program of REMOTE_PROGRAMS) {
      const sbin = ['/usr/local/sbin', '/usr/sbin', '/sbin'].map((d) => path.join(d, program)).find((p) => fs.existsSync(p));
      if (okPaths[program] === undefined && sbin) okPaths[program] = sbin;
    }

    for (const u of Object.values(users)) {
      sh(['useradd', '-M', '-d', home, '-s', '/bin/sh', u]);
      made.users.push(u);
      sh(['usermod', '-p', '*', u]); // not locked (a `!` password locks the account for sshd), no password either
      fs.writeFileSync(path.join(keysDir, u), fs.readFileSync(path.join(dir, 'userkey.pub')), { mode: 0o644 });
    }
    // `agent`: the same programs, and this checkout's flowtrace (run from the repository, where tsx resolves).
    const binAgent = path.join(dir, 'bin-agent');
    fs.mkdirSync(binAgent, { mode: 0o755 });
    for (const f of fs.readdirSync(bin)) fs.symlinkSync(fs.readlinkSync(path.join(bin, f)), path.join(binAgent, f));
    const [node, ...selfArgs] = selfCliArgv();
    fs.writeFileSync(path.join(binAgent, 'flowtrace'), `#!/bin/sh\ncd ${PACKAGE_ROOT} && exec ${node} ${selfArgs.join(' ')} "$@"\n`, { mode: 0o755 });
    const sudoers = sudoersLines(users.ok, okPaths);
    fs.writeFileSync(sudoersFile, [
      ...sudoers,
      sudoers[0]!.replace(`${users.ok} `, `${users.partial} `),
      ...sudoersLines(users.agent, Object.fromEntries(Object.entries(okPaths).map(([k, v]) => [k, v!.startsWith(bin + '/') ? path.join(binAgent, path.basename(v!)) : v]))),
      // As the agent transport runs it: `sudo -n flowtrace agent`, found in sudo's secure_path.
      `Defaults:${users.agent} secure_path="${binAgent}:/usr/sbin:/usr/bin:/sbin:/bin"`,
      `${users.agent} ALL=(root) NOPASSWD: ${path.join(binAgent, 'flowtrace')} agent`,
      '',
    ].join('\n'), { mode: 0o440 });
    sh(['visudo', '-c', '-q', '-f', sudoersFile]);

    // sshd.
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // its privilege-separation directory
    const sshdConfig = path.join(dir, 'sshd_config');
    fs.writeFileSync(sshdConfig, [
      `ListenAddress ${address}:22`, 'ListenAddress 127.0.0.1:22', `HostKey ${path.join(dir, 'hostkey')}`, `AuthorizedKeysFile ${keysDir}/%u`,
      'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'PidFile none', 'StrictModes yes',
      `AllowUsers ${Object.values(users).join(' ')}`, 'ClientAliveInterval 2', 'ClientAliveCountMax 2', 'PrintMotd no',
      `Match User ${users.ok},${users.nosudo},${users.partial}`, `  SetEnv PATH=${bin}`,
      `Match User ${users.agent}`, `  SetEnv PATH=${binAgent}`,
      `Match User ${users.notcpdump}`, `  SetEnv PATH=${binNoTcpdump}`, '',
    ].join('\n'));
    sshd = spawn('ip', ['netns', 'exec', srv, '/usr/sbin/sshd', '-D', '-e', '-f', sshdConfig], { stdio: ['ignore', 'ignore', 'pipe'] });
    let sshdLog = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sshd did not start: ${sshdLog}`)), 10_000);
      sshd!.stderr!.setEncoding('utf8').on('data', (t: string) => { sshdLog += t; if (/Server listening on/.test(sshdLog)) { clearTimeout(timer); resolve(); } });
      sshd!.on('exit', (code) => { clearTimeout(timer); reject(new Error(`sshd exited (${code}): ${sshdLog}`)); });
    });
    sshd.stderr!.resume();

    // known_hosts, ssh_config.
    const hostPub = fs.readFileSync(path.join(dir, 'hostkey.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    fs.writeFileSync(path.join(dir, 'known_hosts'), `${address} ${hostPub}\n127.0.0.1 ${hostPub}\n`);
    fs.writeFileSync(path.join(dir, 'empty_known_hosts'), '');
    const entry = (alias: string, user: string, extra: string[] = [], key = 'userkey', knownHosts = 'known_hosts'): string[] => [
      `Host ${alias}`, `  HostName ${address}`, `  User ${user}`, `  IdentityFile ${path.join(dir, key)}`, '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${path.join(dir, knownHosts)}`, '  GlobalKnownHostsFile /dev/null', ...extra.map((l) => `  ${l}`),
    ];
    const configFile = path.join(dir, 'ssh_config');
    fs.writeFileSync(configFile, [
      ...entry('ok', users.ok), ...entry('nosudo', users.nosudo), ...entry('notcpdump', users.notcpdump),
      ...entry('partial', users.partial), ...entry('agent', users.agent),
      ...entry('badkey', users.ok, [], 'otherkey'), ...entry('unknownhost', users.ok, [], 'userkey', 'empty_known_hosts'),
      // Through a bastion to an address only it can reach (the server's own loopback: the client has no sshd there).
      ...entry('jump', users.ok, [`ProxyJump ${users.ok}@${address}`]).map((l) => l.replace(`HostName ${address}`, 'HostName 127.0.0.1')),
      `Host ${address}`, `  IdentityFile ${path.join(dir, 'userkey')}`, '  IdentitiesOnly yes', `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`, '  GlobalKnownHostsFile /dev/null', '',
    ].join('\n'), { mode: 0o644 });

    const env = (): NodeJS.ProcessEnv => ({ ...process.env, FLOWTRACE_SSH_CONFIG: configFile });
    return {
      prefix, srv, cli, host, address, dir, configFile, users, okPaths, sshdPid: sshd.pid!, sudoers,
      inClient: (argv) => ['ip', 'netns', 'exec', cli, 'env', `FLOWTRACE_SSH_CONFIG=${configFile}`, ...argv],
      env,
      processes(which) {
        const ns = which === 'srv' ? srv : cli;
        const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
        const out: Array<{ pid: number; comm: string; cmdline: string }> = [];
        for (const pid of pids) {
          try {
            const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
            if (/^\d+ \(.*\) Z/s.test(stat)) continue;
            out.push({ pid, comm: fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), cmdline: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() });
          } catch { /* gone meanwhile */ }
        }
        return out;
      },
      destroy,
    };
  } catch (err) {
    destroy();
    throw err;
  }
}

/** Namespaces, users and sudoers drop-ins left with the prefix (the "nothing left behind" checks). */
export function sshdLeftovers(): string[] {
  const ns = (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(SSHD_PREFIX));
  const users = fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')[0]!).filter((u) => u.startsWith('fttssh-'));
  const sudoers = fs.readdirSync('/etc/sudoers.d').filter((f) => f.startsWith('fttssh-'));
  return [...ns, ...users, ...sudoers.map((f) => `/etc/sudoers.d/${f}`)];
}

export { DEBIAN_PATHS };
