/**
 * A miniature EC2 host for live-capture tests, built from network namespaces with a prefix
 * (`fttcap-` by default; the agent tests use `fttagent-`):
 *
 *   <p>alb   alb0 172.31.0.10/16 ── veth ── ens5 172.31.5.20/16   <p>ec2
 *                                         docker0 172.17.0.1/16 (bridge)
 *                                           └─ veth1a2b3c4 ── eth0 172.17.0.2/16   <p>ctr
 *
 * <p>ec2 has Docker's nat rules for `-p 80:8080`; <p>ctr runs a real HTTP server (node) on
 * 8080 that answers 200 with the X-Amzn-Trace-Id it got. Everything is removed by
 * `destroy()` (namespaces, the server process by its PID), also after a failed build.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dockerIptablesRules } from '../../src/lab/index.js';

export const HOST = {
  albAddress: '172.31.0.10',
  ens5Address: '172.31.5.20',
  containerAddress: '172.17.0.2',
  veth: 'veth1a2b3c4',
  publicPort: 80,
  containerPort: 8080,
} as const;

/** Docker's rules for `-p 80:8080`, written by the lab's own writer. */
const DOCKER_NAT = dockerIptablesRules({ containerAddress: HOST.containerAddress, containerPort: 8080, hostPort: 80, bridgeCidr: '172.17.0.0/16' });

const SERVER = `
const http = require('node:http');
http.createServer((req, res) => {
  const body = JSON.stringify({ traceId: req.headers['x-amzn-trace-id'] ?? null, path: req.url }) + '\\n';
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Set-Cookie', 'session=s3cr3t-from-server; HttpOnly');
  res.end(body);
}).listen(8080, '0.0.0.0', () => process.stdout.write('listening\\n'));
`;

function sh(argv: string[], input?: string): void {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input, timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
}

export interface MiniHost {
  prefix: string;
  alb: string;
  ec2: string;
  ctr: string;
  server: ChildProcess;
  /** curl from the ALB namespace to ens5:80 with a trace id; returns curl's stdout. */
  request(traceId: string, headers?: string[]): string;
  destroy(): void;
}

export function isRoot(): boolean { return process.getuid?.() === 0; }

/** Namespaces left by this prefix (for the "nothing left behind" checks). */
export function leftovers(prefix: string): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(prefix));
}

function removeNamespaces(prefix: string): void {
  for (const ns of leftovers(prefix)) spawnSync('ip', ['netns', 'del', ns]);
}

export async function buildMiniHost(prefix = 'fttcap-'): Promise<MiniHost> {
  removeNamespaces(prefix); // a previous run killed hard
  const alb = `${prefix}alb`;
  const ec2 = `${prefix}ec2`;
  const ctr = `${prefix}ctr`;
  let server: ChildProcess | null = null;
  const destroy = (): void => {
    if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    removeNamespaces(prefix);
  };
  try {
    for (const ns of [alb, ec2, ctr]) sh(['ip', 'netns', 'add', ns]);
    sh(['ip', '-n', alb, 'link', 'add', 'alb0', 'type', 'veth', 'peer', 'name', 'ens5', 'netns', ec2]);
    sh(['ip', '-n', ec2, 'link', 'add', 'docker0', 'type', 'bridge']);
    sh(['ip', '-n', ec2, 'link', 'add', HOST.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ctr]);
    sh(['ip', '-n', ec2, 'link', 'set', HOST.veth, 'master', 'docker0']);
    sh(['ip', '-n', alb, 'addr', 'add', `${HOST.albAddress}/16`, 'dev', 'alb0']);
    sh(['ip', '-n', ec2, 'addr', 'add', `${HOST.ens5Address}/16`, 'dev', 'ens5']);
    sh(['ip', '-n', ec2, 'addr', 'add', '172.17.0.1/16', 'dev', 'docker0']);
    sh(['ip', '-n', ctr, 'addr', 'add', `${HOST.containerAddress}/16`, 'dev', 'eth0']);
    for (const [ns, dev] of [[alb, 'alb0'], [alb, 'lo'], [ec2, 'ens5'], [ec2, 'docker0'], [ec2, HOST.veth], [ec2, 'lo'], [ctr, 'eth0'], [ctr, 'lo']]) {
      sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    }
    sh(['ip', '-n', ctr, 'route', 'add', 'default', 'via', '172.17.0.1']);
    sh(['ip', 'netns', 'exec', ec2, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    sh(['ip', 'netns', 'exec', ec2, 'iptables-restore'], DOCKER_NAT);
    const s = spawn('ip', ['netns', 'exec', ctr, process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'pipe'] });
    server = s;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('test server did not start')), 10_000);
      s.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening')) { clearTimeout(t); resolve(); } });
      s.on('exit', (code) => { clearTimeout(t); reject(new Error(`test server exited ${code}`)); });
    });
  } catch (err) {
    destroy();
    throw err;
  }
  return {
    prefix, alb, ec2, ctr, server: server!,
    request(traceId: string, headers: string[] = []): string {
      const argv = ['ip', 'netns', 'exec', alb, 'curl', '-sS', '--max-time', '5', '-H', `X-Amzn-Trace-Id: Root=${traceId}`, '-H', `X-Forwarded-For: 10.10.1.2`];
      for (const h of headers) argv.push('-H', h);
      argv.push(`http://${HOST.ens5Address}:${HOST.publicPort}/hello`);
      const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
      if (r.status !== 0) throw new Error(`curl failed: ${r.stderr}`);
      return r.stdout;
    },
    destroy,
  };
}
