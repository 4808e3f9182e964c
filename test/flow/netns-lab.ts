/**
 * A miniature of the seed's EC2 host, built with network namespaces for the flow tests
 * (prefix `fttflow-`): real kernel forwarding, a real Docker-style DNAT, real tcpdump.
 *
 *   fttflow-<tag>-alb  eth0 172.31.0.10/20 ──veth── ens5 172.31.5.20/20  fttflow-<tag>-ec2
 *                                                  docker0 172.17.0.1/16 (bridge)
 *                                                   └─ veth3f2a1b9 ──veth── eth0 172.17.0.2/16  fttflow-<tag>-ctr
 *
 * The ec2 namespace gets Docker's iptables rules for `-p 80:8080` (nat DOCKER chain with the
 * DNAT, filter FORWARD policy DROP with DOCKER-USER / DOCKER / conntrack accept), as written
 * by dockerd. Traffic stays inside these namespaces. Everything is removed by `down()`,
 * which the callers run in `finally` and on SIGINT/SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerIptablesRules } from '../../src/lab/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const APP_SERVER = path.join(here, 'fixtures', 'app-server.mjs');

export const ADDR = {
  alb: '172.31.0.10',
  ens5: '172.31.5.20',
  docker0: '172.17.0.1',
  container: '172.17.0.2',
  appPort: 8080,
  hostPort: 80,
  veth: 'veth3f2a1b9',
} as const;

export const NS_PREFIX = 'fttflow-';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function sh(argv: string[], input?: string): string {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) {
    throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').trim()}`);
  }
  return r.stdout;
}

function dockerRules(withDnat: boolean): string {
  return dockerIptablesRules({ containerAddress: ADDR.container, containerPort: ADDR.appPort, hostPort: ADDR.hostPort, bridgeCidr: '172.17.0.0/16', dnat: withDnat });
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Removes `fttflow-<pid>-*` namespaces left by a run whose process is gone (a crash). */
export function removeStaleNamespaces(): void {
  let names: string[] = [];
  try { names = readdirSync('/run/netns'); } catch { return; }
  for (const name of names) {
    const m = /^fttflow-(\d+)-/.exec(name);
    if (m && !pidAlive(Number(m[1]))) spawnSync('ip', ['netns', 'del', name]);
  }
}

export interface Ec2LabOptions {
  /** Install Docker's DNAT rule for -p 80:8080 (false: the "DNAT rule missing" fault). */
  dnat?: boolean;
  /** Start the container app (false: the "container app down" fault). */
  app?: boolean;
}

export interface CaptureHandle {
  /** Stops tcpdump (SIGINT to the PID we started) and waits for it to flush and exit. */
  stop(): Promise<void>;
}

export class Ec2Lab {
  readonly ns: { alb: string; ec2: string; ctr: string };
  private readonly children: ChildProcess[] = [];
  private removeSignalHandlers: (() => void) | null = null;

  constructor(readonly tag: string = String(process.pid)) {
    this.ns = { alb: `${NS_PREFIX}${tag}-alb`, ec2: `${NS_PREFIX}${tag}-ec2`, ctr: `${NS_PREFIX}${tag}-ctr` };
  }

  async up(options: Ec2LabOptions = {}): Promise<void> {
    const { alb, ec2, ctr } = this.ns;
    const onSignal = (): void => { this.downSync(); process.exit(130); };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    this.removeSignalHandlers = () => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); };
    try {
      for (const n of [alb, ec2, ctr]) sh(['ip', 'netns', 'add', n]);
      for (const n of [alb, ec2, ctr]) sh(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
      sh(['ip', '-n', alb, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'ens5', 'netns', ec2]);
      sh(['ip', '-n', alb, 'addr', 'add', `${ADDR.alb}/20`, 'dev', 'eth0']);
      sh(['ip', '-n', alb, 'link', 'set', 'eth0', 'up']);
      sh(['ip', '-n', ec2, 'addr', 'add', `${ADDR.ens5}/20`, 'dev', 'ens5']);
      sh(['ip', '-n', ec2, 'link', 'set', 'ens5', 'up']);
      sh(['ip', '-n', ec2, 'link', 'add', 'docker0', 'type', 'bridge']);
      sh(['ip', '-n', ec2, 'addr', 'add', `${ADDR.docker0}/16`, 'dev', 'docker0']);
      sh(['ip', '-n', ec2, 'link', 'set', 'docker0', 'up']);
      sh(['ip', '-n', ec2, 'link', 'add', ADDR.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ctr]);
      sh(['ip', '-n', ec2, 'link', 'set', ADDR.veth, 'master', 'docker0']);
      sh(['ip', '-n', ec2, 'link', 'set', ADDR.veth, 'up']);
      sh(['ip', '-n', ctr, 'addr', 'add', `${ADDR.container}/16`, 'dev', 'eth0']);
      sh(['ip', '-n', ctr, 'link', 'set', 'eth0', 'up']);
      sh(['ip', '-n', ctr, 'route', 'add', 'default', 'via', ADDR.docker0]);
      sh(['ip', 'netns', 'exec', ec2, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      sh(['ip', 'netns', 'exec', ec2, 'iptables-restore'], dockerRules(options.dnat !== false));
      if (options.app !== false) await this.startApp();
    } catch (err) {
      this.downSync();
      throw err;
    }
  }

  private startApp(): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', this.ns.ctr, process.execPath, APP_SERVER, String(ADDR.appPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    return waitForOutput(child, 'stdout', /listening/, 'the container app');
  }

  /** `tcpdump -i any -nn -s 1600 --immediate-mode -w FILE` in the ec2 namespace. */
  async startCapture(file: string, filter: string[] = []): Promise<CaptureHandle> {
    const child = spawn('ip', ['netns', 'exec', this.ns.ec2, 'tcpdump', '-i', 'any', '-nn', '-s', '1600', '--immediate-mode', '-U', '-Z', 'root', '-w', file, ...filter], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.children.push(child);
    await waitForOutput(child, 'stderr', /listening on/, 'tcpdump');
    return {
      stop: () => new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
        child.once('exit', () => resolve());
        // ip netns exec execs tcpdump in place, so this PID is tcpdump's.
        child.kill('SIGINT');
      }),
    };
  }

  /** `ip -o link` of the ec2 namespace: the ifindex → name map of a capture made there. */
  ifmapText(): string {
    return sh(['ip', '-n', this.ns.ec2, '-o', 'link']);
  }

  /** Runs a program in one of the namespaces and returns its stdout. */
  exec(node: 'alb' | 'ec2' | 'ctr', argv: string[]): string {
    return sh(['ip', 'netns', 'exec', this.ns[node], ...argv]);
  }

  /** Like exec but returns the result whatever the exit status. */
  run(node: 'alb' | 'ec2' | 'ctr', argv: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', this.ns[node], ...argv], { encoding: 'utf8', timeout: 20_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  async down(): Promise<void> {
    await Promise.all(this.children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) { resolve(); return; }
      const t = setTimeout(() => { c.kill('SIGKILL'); }, 2000);
      c.once('exit', () => { clearTimeout(t); resolve(); });
      c.kill('SIGTERM');
    })));
    this.downSync();
  }

  /** Synchronous teardown (signal handlers): kill our children by PID, delete the namespaces. */
  downSync(): void {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        try { process.kill(c.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    for (const n of Object.values(this.ns)) spawnSync('ip', ['netns', 'del', n]);
    this.removeSignalHandlers?.();
    this.removeSignalHandlers = null;
  }

  /** Namespaces of this lab still present (for the "nothing left behind" assertion). */
  leftovers(): string[] {
    let names: string[] = [];
    try { names = readdirSync('/run/netns'); } catch { return []; }
    return names.filter((n) => Object.values(this.ns).includes(n));
  }
}

function waitForOutput(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => { reject(new Error(`${what} did not start within 5 s: ${text.trim()}`)); }, 5000);
    child[stream]?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (pattern.test(text)) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited (${code}): ${text.trim()}`)); });
  });
}

/** Reads a small file as text (used by callers that store ifmaps next to captures). */
export function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
