/**
 * The lab's long-lived processes: dnsmasq (ft-dns), the ALB nodes (ft-alb-a, ft-alb-b), the
 * app (ft-container) and OpenSSH's sshd on the bastion and the instance (./ssh.ts). Each runs detached (it outlives `lab up`), logs under the run
 * dir and is tracked by PID + start time in the state file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { PACKAGE_ROOT, selfModuleArgv } from '../self.js';
import type { AlbConfig } from './alb.js';
import { LAB, LAB_REVISION, nsName, type LabNode } from './topology.js';
import { isTrackedAlive, type LabState, type ServiceName, type TrackedProcess } from './state.js';
import { processStartTime, sleep, spawnDetached, terminate } from './system.js';
import { sshdConfigFile } from './ssh.js';

export const SERVICE_NODE: Record<ServiceName, LabNode> = { dnsmasq: 'dns', 'alb-a': 'alb-a', 'alb-b': 'alb-b', app: 'container', 'sshd-bastion': 'bastion', 'sshd-ec2': 'ec2' };

const READY_TIMEOUT_MS = 30_000;

export function logFile(service: ServiceName): string {
  return path.join(LAB.runDir, `${service}.log`);
}

function readyFile(service: ServiceName): string {
  return path.join(LAB.runDir, `${service}.ready`);
}

export function albConfigFile(node: 'alb-a' | 'alb-b'): string {
  return path.join(LAB.runDir, `${node}.json`);
}

export function albHealthFile(node: 'alb-a' | 'alb-b'): string {
  return path.join(LAB.runDir, `${node}.health.json`);
}

/** One load balancer, two nodes: the same elb id in both access logs (and in its AWS description, aws-config.ts). */
export const ALB_ELB_ID = 'app/seqas-alb/50dc6c495c0c9188';
export const ALB_TARGET_GROUP_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/seqas-web/73e2d6bc24d8a067';
export const ALB_CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0d3b6a8e-5f1c-4c7e-9a51-2f4b8c6d1e90';
export const ALB_HEALTH_CHECK = { path: '/', intervalMs: 5000, timeoutMs: 2000, healthyThreshold: 2, unhealthyThreshold: 2, matcher: [200] } as const;
/** The listener the `listener-missing` fault deletes (the one follow's plain-HTTP requests use). */
export const LISTENER_MISSING_PORT = 80;

/**
 * The ALB node's configuration; `targets` empty when the `target-deregistered` fault is on,
 * no port-80 listener under `listener-missing`.
 */
export function albConfig(node: 'alb-a' | 'alb-b', opts: { deregistered: boolean; listenerMissing?: boolean }): AlbConfig {
  const listeners: AlbConfig['listeners'] = [{ port: 80, protocol: 'http' }, { port: 443, protocol: 'https' }];
  return {
    name: node,
    host: '0.0.0.0',
    listeners: opts.listenerMissing ? listeners.filter((l) => l.port !== LISTENER_MISSING_PORT) : listeners,
    certFile: path.join(LAB.runDir, 'server.pem'),
    keyFile: path.join(LAB.runDir, 'server.key'),
    targets: opts.deregistered ? [] : [{ ip: LAB.instance.ens5, port: LAB.instance.port }],
    healthCheck: { ...ALB_HEALTH_CHECK, matcher: [...ALB_HEALTH_CHECK.matcher] },
    targetTimeoutMs: LAB.albTargetTimeoutMs,
    idleTimeoutMs: 60_000,
    failOpen: true,
    elbId: ALB_ELB_ID,
    targetGroupArn: ALB_TARGET_GROUP_ARN,
    certificateArn: ALB_CERTIFICATE_ARN,
    accessLogFile: LAB.accessLogs[node],
    healthFile: albHealthFile(node),
  };
}

/** What each service should look like, from the active faults. */
export interface DesiredServices {
  /** Which processes run (`dns-down`, `app-down`, `alb-node-down` stop one). */
  running: Record<ServiceName, boolean>;
  dnsmasq: { nxdomain: boolean };
  /** Where the app listens (`app-wrong-port`, `app-localhost` move it) and how it answers. */
  app: { host: string; port: number; delayMs: number; status: number };
  albDeregistered: boolean;
  /** `listener-missing`: the nodes run without their port-80 listener (a restart: listeners are bound at start). */
  albListenerMissing: boolean;
}

/** The ALB node the `alb-node-down` fault stops (zone b: requests through alb-a still work). */
export const ALB_NODE_DOWN: 'alb-a' | 'alb-b' = 'alb-b';

/** The port the app listens on under `app-wrong-port` (a deploy that changed the app's port, not the mapping). */
export const APP_WRONG_PORT = 8081;

export function desiredServices(faults: readonly string[]): DesiredServices {
  return {
    running: {
      dnsmasq: !faults.includes('dns-down'),
      app: !faults.includes('app-down'),
      'alb-a': !(faults.includes('alb-node-down') && ALB_NODE_DOWN === 'alb-a'),
      'alb-b': !(faults.includes('alb-node-down') && ALB_NODE_DOWN === 'alb-b'),
      'sshd-bastion': true,
      'sshd-ec2': true,
    },
    dnsmasq: { nxdomain: faults.includes('dns-nxdomain') },
    app: {
      host: faults.includes('app-localhost') ? '127.0.0.1' : '0.0.0.0',
      port: faults.includes('app-wrong-port') ? APP_WRONG_PORT : LAB.container.port,
      delayMs: faults.includes('app-slow') ? LAB.albTargetTimeoutMs + 2000 : 0,
      status: faults.includes('app-500') ? 500 : 0,
    },
    albDeregistered: faults.includes('target-deregistered'),
    albListenerMissing: faults.includes('listener-missing'),
  };
}

function serviceArgv(service: ServiceName, d: DesiredServices): string[] {
  switch (service) {
    case 'dnsmasq': {
      const records = d.dnsmasq.nxdomain ? [] : [
        `--host-record=${LAB.domain},${LAB.albA.public}`,
        `--host-record=${LAB.domain},${LAB.albB.public}`,
      ];
      return ['dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--bind-interfaces',
        `--listen-address=${LAB.dnsServer}`, '--user=root', '--group=root', '--pid-file=', `--local-ttl=${LAB.dnsTtlSeconds}`,
        '--local=/#/', '--log-queries', `--log-facility=${logFile('dnsmasq')}`, ...records];
    }
    case 'app':
      return [...selfModuleArgv('lab/app-main'), '--host', d.app.host, '--port', String(d.app.port),
        '--delay-ms', String(d.app.delayMs), '--status', String(d.app.status), '--ready-file', readyFile('app')];
    case 'alb-a':
    case 'alb-b':
      // The listeners are part of the argv (not only the config file): a change restarts the node.
      return [...selfModuleArgv('lab/alb-main'), '--config', albConfigFile(service), '--ready-file', readyFile(service),
        ...(d.albListenerMissing ? ['--without-listener', String(LISTENER_MISSING_PORT)] : [])];
    case 'sshd-bastion':
    case 'sshd-ec2':
      // -D: in the foreground (tracked by its PID); -e: its log to stderr, i.e. the service's log file.
      return ['/usr/sbin/sshd', '-D', '-e', '-f', sshdConfigFile(service === 'sshd-bastion' ? 'bastion' : 'ec2')];
  }
}

function logTail(service: ServiceName): string {
  try {
    const lines = fs.readFileSync(logFile(service), 'utf8').trim().split('\n');
    return lines.slice(-3).join(' | ');
  } catch {
    return '';
  }
}

/** Starts one service and waits until it is ready (listening). */
async function startService(service: ServiceName, d: DesiredServices, signal?: AbortSignal): Promise<TrackedProcess> {
  const node = SERVICE_NODE[service];
  if (service === 'alb-a' || service === 'alb-b') {
    fs.writeFileSync(albConfigFile(service), JSON.stringify(albConfig(service, { deregistered: d.albDeregistered, listenerMissing: d.albListenerMissing }), null, 2) + '\n');
  }
  const ready = readyFile(service);
  fs.rmSync(ready, { force: true });
  const argv = serviceArgv(service, d);
  let logOffset = 0;
  try { logOffset = fs.statSync(logFile(service)).size; } catch { /* new log */ }
  const pid = spawnDetached(['ip', 'netns', 'exec', nsName(node), ...argv], logFile(service), { cwd: PACKAGE_ROOT });
  const proc: TrackedProcess = { pid, startTime: processStartTime(pid), node, argv, revision: LAB_REVISION };
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (service === 'dnsmasq' || service === 'sshd-bastion' || service === 'sshd-ec2') {
      // dnsmasq logs "started", sshd "Server listening on", once their sockets are bound.
      const bound = service === 'dnsmasq' ? /started, version/ : /Server listening on/;
      try { if (bound.test(fs.readFileSync(logFile(service)).subarray(logOffset).toString('utf8'))) break; } catch { /* not yet */ }
    } else if (fs.existsSync(ready)) {
      break;
    }
    if (!isTrackedAlive(proc)) {
      throw new LabError('LAB_SERVICE', `${service} in ${nsName(node)} exited while starting: ${logTail(service) || 'no output'}`,
        `see ${logFile(service)}; run \`flowtrace lab down\` and \`flowtrace lab up\` again`, { service, argv });
    }
    if (signal?.aborted || performance.now() > deadline) {
      await terminate(pid);
      if (signal?.aborted) signal.throwIfAborted();
      throw new LabError('LAB_SERVICE', `${service} in ${nsName(node)} did not become ready within ${READY_TIMEOUT_MS / 1000} s`,
        `see ${logFile(service)}`, { service, argv });
    }
    await sleep(service === 'dnsmasq' || service.startsWith('sshd') ? 5 : 15);
  }
  return proc;
}

async function stopService(state: LabState, service: ServiceName): Promise<void> {
  const p = state.processes[service];
  if (p && isTrackedAlive(p)) await terminate(p.pid);
  delete state.processes[service];
  // A stopped node checks nothing: no stale target health in `lab status`.
  if (service === 'alb-a' || service === 'alb-b') fs.rmSync(albHealthFile(service), { force: true });
}

function sameArgv(a: string[] | undefined, b: string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Brings the processes to what the faults want: starts what is missing or dead, restarts
 * what runs with other arguments, stops what must be down, reloads the ALBs' targets.
 * Mutates `state.processes`.
 */
export async function reconcileServices(state: LabState, signal?: AbortSignal): Promise<void> {
  const d = desiredServices(state.faults);
  const want = d.running;
  const reconcile = (service: ServiceName): Promise<void> | null => {
    const current = state.processes[service];
    const alive = current !== undefined && isTrackedAlive(current);
    const argv = serviceArgv(service, d);
    if (!want[service]) return current ? stopService(state, service) : null;
    if (alive && sameArgv(current.argv, argv)) return null;
    return (async () => {
      if (current) await stopService(state, service);
      state.processes[service] = await startService(service, d, signal);
    })();
  };
  // The ALB nodes come second: each waits for its first health check before it says ready,
  // and that check then finds the app already listening (the target starts healthy).
  for (const group of [['dnsmasq', 'app', 'sshd-bastion', 'sshd-ec2'], ['alb-a', 'alb-b']] as ServiceName[][]) {
    const results = await Promise.allSettled(group.map(reconcile).filter((j): j is Promise<void> => j !== null));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  // ALB target changes are a reload (SIGHUP), not a restart.
  for (const node of ['alb-a', 'alb-b'] as const) {
    const cfg = albConfig(node, { deregistered: d.albDeregistered, listenerMissing: d.albListenerMissing });
    const file = albConfigFile(node);
    const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const after = JSON.stringify(cfg, null, 2) + '\n';
    if (before !== after) {
      fs.writeFileSync(file, after);
      const p = state.processes[node];
      if (p && isTrackedAlive(p)) process.kill(p.pid, 'SIGHUP');
    }
  }
}
