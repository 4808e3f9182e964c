/**
 * The lab's lifecycle: up (idempotent, recovers from a killed run), down, status, exec in
 * a node, faults. One lab at a time (a lock with the owner's PID).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EXIT, FlowtraceError, LabError, PrivilegeError, UsageError } from '../errors.js';
import { PACKAGE_ROOT } from '../self.js';
import { LAB_FAULTS, SERVICE_FAULTS, isLabFault, setNetworkFault, type LabFaultName } from './faults.js';
import { buildTopology, destroyTopology, existingLabNamespaces, namespaceExists, namespaceInode } from './netns.js';
import { makePki } from './pki.js';
import { makeSshAccess, removeSshUser } from './ssh.js';
import { albClosedFile, albHealthFile, desiredServices, logFile, reconcileServices, APP_SHORT_IDLE_CLOSE_MS, SERVICE_NODE, SERVICES, TARGET_OUT } from './services.js';
import {
  SESSION_FILE as SESSION_FILE_PATH, acquireLock, claimSession, isTrackedAlive, sessionOwner, readState, releaseSession, sessionHeldByOther, writeState,
  type LabState, type ServiceName,
} from './state.js';
import { requirePrograms, run, sleep, terminate, type RunResult } from './system.js';
import { LAB, LAB_NODES, LAB_REVISION, resolveLabNode, nsName, type LabNode } from './topology.js';
import { describeTargetHealth, type AlbHealthCheck, type DescribeTargetHealth, type TargetHealth } from './target-group.js';

export { describeTargetHealth, type DescribeTargetHealth };

export interface LabServiceStatus {
  name: ServiceName;
  node: LabNode;
  pid: number | null;
  alive: boolean;
  log: string;
}

export interface LabNodeStatus {
  node: LabNode;
  namespace: string;
  exists: boolean;
}

export interface LabStatus {
  /** Every namespace exists and every wanted service is alive. */
  up: boolean;
  upSince: string | null;
  nodes: LabNodeStatus[];
  services: LabServiceStatus[];
  faults: LabFaultName[];
  /** Each ALB node's view of the target group: its targets' health (as its own health checks find it), its zone, cross-zone, the health check. */
  targetHealth: NodeTargetHealth[];
  /** The target group's health as `aws elbv2 describe-target-health` prints it (one entry per target, the nodes' views joined). */
  describeTargetHealth: DescribeTargetHealth;
  /** Whether `labUp` found the lab already up (it then changed nothing). */
  alreadyUp?: boolean;
  /** The live process that owns the lab session (null: free; a dead owner frees it). */
  sessionOwnerPid: number | null;
  lab: typeof LAB;
}

export interface NodeTargetHealth {
  node: 'alb-a' | 'alb-b';
  zone: string | null;
  crossZone: boolean | null;
  healthCheck: AlbHealthCheck | null;
  targets: TargetHealth[];
}

export interface LabUpOptions {
  /** Aborting tears down what was built and rejects. */
  signal?: AbortSignal;
  /**
   * How long to wait while another live process owns the lab session (default 600 s,
   * env FT_LAB_WAIT_S); then LAB_BUSY.
   */
  waitMs?: number;
}

export interface LabSessionOptions {
  waitMs?: number;
  signal?: AbortSignal;
}

function defaultWaitMs(): number {
  const s = Number(process.env.FT_LAB_WAIT_S);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : 600_000;
}

/**
 * Takes the lab lock once no other live process owns the session; claims the session.
 * Returns the lock's release function.
 */
async function lockSession(what: string, opts: LabSessionOptions = {}): Promise<() => void> {
  const deadline = performance.now() + (opts.waitMs ?? defaultWaitMs());
  for (;;) {
    const release = await acquireLock();
    const other = sessionHeldByOther();
    if (!other) {
      claimSession();
      return release;
    }
    release();
    if (performance.now() > deadline) {
      throw new LabError('LAB_BUSY', `${what}: the lab is in use by another process (pid ${other.pid})`,
        `wait for it to finish (set FT_LAB_WAIT_S to wait longer), or force it: flowtrace lab down`, { owner: other.pid });
    }
    if (opts.signal?.aborted) {
      throw new FlowtraceError('INTERRUPTED', `${what} was interrupted while waiting for the lab`, 'nothing was changed', EXIT.interrupted);
    }
    await sleep(250);
  }
}

function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new PrivilegeError(what, 'the lab creates network namespaces: run it as root (sudo flowtrace lab …)');
  }
}

function wantedServices(faults: readonly string[]): ServiceName[] {
  const running = desiredServices(faults).running;
  return (Object.keys(running) as ServiceName[]).filter((s) => running[s]);
}

/** The lab's status, from the namespaces, the state file and the ALBs' health files. */
export function labStatus(): LabStatus {
  const state = readState();
  const nodes = LAB_NODES.map((node) => ({ node, namespace: nsName(node), exists: namespaceExists(node) }));
  const services: LabServiceStatus[] = SERVICES.map((name) => {
    const p = state?.processes[name];
    return { name, node: SERVICE_NODE[name], pid: p?.pid ?? null, alive: p ? isTrackedAlive(p) : false, log: logFile(name) };
  });
  const faults = (state?.faults ?? []).filter(isLabFault);
  const targetHealth = (['alb-a', 'alb-b'] as const).map((node): NodeTargetHealth => {
    try {
      const h = JSON.parse(fs.readFileSync(albHealthFile(node), 'utf8')) as { zone?: string | null; crossZone?: boolean; healthCheck?: AlbHealthCheck; targets: TargetHealth[] };
      return { node, zone: h.zone ?? null, crossZone: h.crossZone ?? null, healthCheck: h.healthCheck ?? null, targets: h.targets };
    } catch {
      return { node, zone: null, crossZone: null, healthCheck: null, targets: [] };
    }
  });
  const wanted = wantedServices(faults);
  // A lab built by another revision of flowtrace (other interfaces, rules, app), or whose
  // services another revision restarted (its fault/heal), is rebuilt by `up`.
  const sameRevision = (name: ServiceName) => state?.processes[name]?.revision === LAB_REVISION;
  const up = state !== null && state.revision === LAB_REVISION && nodes.every((n) => n.exists)
    && services.every((s) => !wanted.includes(s.name) || (s.alive && sameRevision(s.name)));
  const owner = sessionOwner();
  const ownerAlive = owner !== null && (owner.pid === process.pid || sessionHeldByOther() !== null);
  return { up, upSince: state?.upSince ?? null, nodes, services, faults, targetHealth, describeTargetHealth: describeTargetHealth(targetHealth), sessionOwnerPid: ownerAlive ? owner.pid : null, lab: LAB };
}

/** Recorded namespace inodes (to find processes that outlived a deleted namespace). */
const INODES_FILE = '/run/flowtrace-lab.netns-inodes';

async function teardown(): Promise<void> {
  const state = readState();
  let inodes: number[] = [];
  try { inodes = JSON.parse(fs.readFileSync(INODES_FILE, 'utf8')) as number[]; } catch { /* none recorded */ }
  // Our tracked processes first (they may be the only trace of a namespace deleted by hand).
  if (state) {
    await Promise.all(Object.values(state.processes).map(async (p) => { if (p && isTrackedAlive(p)) await terminate(p.pid); }));
  }
  await destroyTopology(inodes);
  await removeSshUser();
  fs.rmSync(LAB.runDir, { recursive: true, force: true });
  fs.rmSync(INODES_FILE, { force: true });
}

/**
 * Brings the lab up. Idempotent: a lab that is up is left as it is (`alreadyUp: true`).
 * Leftovers of a killed run (namespaces, processes, files) are removed first. On failure or
 * abort, everything built so far is torn down.
 */
export async function labUp(opts: LabUpOptions = {}): Promise<LabStatus> {
  requireRoot('flowtrace lab up');
  requirePrograms(['ip', 'iptables', 'iptables-restore', 'nft', 'sysctl', 'dnsmasq', 'openssl', 'sshd', 'ssh-keygen', 'visudo', 'useradd']);
  const release = await lockSession('lab up', opts);
  try {
    const before = labStatus();
    if (before.up) return { ...before, alreadyUp: true };
    await teardown();
    try {
      opts.signal?.throwIfAborted();
      fs.mkdirSync(LAB.runDir, { recursive: true, mode: 0o755 });
      fs.mkdirSync(LAB.accessLogDir, { recursive: true, mode: 0o755 });
      const state: LabState = { version: 1, revision: LAB_REVISION, upSince: new Date().toISOString(), processes: {}, faults: [], app: { delayMs: 0, status: 0 } };
      writeState(state);
      await Promise.all([buildTopology(opts.signal), makePki(), makeSshAccess()]);
      fs.writeFileSync(INODES_FILE, JSON.stringify(existingLabNamespaces().map(namespaceInode).filter((i) => i !== null)));
      opts.signal?.throwIfAborted();
      try {
        await reconcileServices(state, opts.signal);
      } finally {
        writeState(state);
      }
      opts.signal?.throwIfAborted();
      return { ...labStatus(), alreadyUp: false };
    } catch (err) {
      await teardown();
      releaseSession();
      if (opts.signal?.aborted) {
        throw new FlowtraceError('INTERRUPTED', 'lab up was interrupted; everything it had built was removed', 'run `flowtrace lab up` again', EXIT.interrupted);
      }
      throw err;
    }
  } finally {
    release();
  }
}

/**
 * Removes everything the lab created. Safe to run when the lab is down. Waits while another
 * live process owns the lab session, unless `force` (the CLI's `lab down` forces).
 */
export async function labDown(opts: LabSessionOptions & { force?: boolean; keepSession?: boolean } = {}): Promise<void> {
  requireRoot('flowtrace lab down');
  const release = opts.force ? await acquireLock() : await lockSession('lab down', opts);
  try {
    await teardown();
    // keepSession: stay the owner (e.g. a benchmark's up/down cycles) so nobody else builds in between.
    if (!opts.keepSession) releaseSession();
    if (opts.force) fs.rmSync(SESSION_FILE_PATH, { force: true });
  } finally {
    release();
  }
}

function requireNode(node: string): LabNode {
  const n = resolveLabNode(node);
  if (n === null) {
    throw new UsageError(`unknown lab node '${node}'`, `nodes: ${LAB_NODES.join(', ')} (ec2-a, container-a: ec2, container)`, { node });
  }
  return n;
}

function requireUp(node: LabNode): void {
  if (!namespaceExists(node)) {
    throw new LabError('LAB_NOT_UP', `the lab is not up (namespace ${nsName(node)} does not exist)`, 'run `flowtrace lab up` first', { node });
  }
}

export interface LabExecOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs argv inside a node (`ip netns exec ft-<node> …`) to completion. Never a shell string. */
export async function labExec(node: LabNode | string, argv: string[], opts: LabExecOptions = {}): Promise<RunResult> {
  requireRoot('flowtrace lab exec');
  const n = requireNode(node);
  requireUp(n);
  if (argv.length === 0) throw new UsageError('lab exec needs a command', 'flowtrace lab exec NODE -- CMD [ARGS…]');
  return run(['ip', 'netns', 'exec', nsName(n), ...argv], { input: opts.input, timeoutMs: opts.timeoutMs, env: opts.env, cwd: PACKAGE_ROOT });
}

/** Starts a long-running process inside a node; the caller owns (and must end) it. */
export function spawnInLab(node: LabNode | string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
  requireRoot('flowtrace lab exec');
  const n = requireNode(node);
  requireUp(n);
  if (argv.length === 0) throw new UsageError('spawnInLab needs a command', 'pass an argv array');
  return spawn('ip', ['netns', 'exec', nsName(n), ...argv], { cwd: PACKAGE_ROOT, ...opts });
}

function requireFault(name: string): LabFaultName {
  if (!isLabFault(name)) {
    throw new UsageError(`unknown fault '${name}'`, `run \`flowtrace lab faults\` for the list: ${Object.keys(LAB_FAULTS).join(', ')}`, { fault: name });
  }
  return name;
}

async function withUpState<T>(opts: LabSessionOptions, fn: (state: LabState) => Promise<T>): Promise<T> {
  requireRoot('flowtrace lab fault/heal');
  const release = await lockSession('lab fault/heal', opts);
  try {
    const state = readState();
    if (!state || existingLabNamespaces().length < LAB_NODES.length) {
      throw new LabError('LAB_NOT_UP', 'the lab is not up', 'run `flowtrace lab up` first');
    }
    try {
      return await fn(state);
    } finally {
      writeState(state);
    }
  } finally {
    release();
  }
}

/** Faults whose effect depends on which targets are in service: they start from a target group whose targets are all healthy. */
const NEEDS_HEALTHY_TARGETS: readonly LabFaultName[] = ['keepalive-race', 'target-unhealthy', 'targets-unhealthy', 'healthcheck-404', 'target-draining', 'cross-zone-off'];

/** How long a fault waits for the target group to reach the state it needs (5 checks at most, and their timeouts). */
const TARGET_HEALTH_WAIT_MS = 30_000;

/** Waits until both ALB nodes see the target group as `ok` says; LAB_FAULT when it does not come. */
async function waitTargetHealth(ok: (targets: TargetHealth[]) => boolean, what: string): Promise<void> {
  const deadline = performance.now() + TARGET_HEALTH_WAIT_MS;
  for (;;) {
    const views = labStatus().targetHealth.filter((n) => n.targets.length > 0 || n.healthCheck !== null);
    if (views.length > 0 && views.every((n) => ok(n.targets))) return;
    if (performance.now() > deadline) {
      throw new LabError('LAB_FAULT', `the target group did not reach the state the fault needs (${what}) within ${TARGET_HEALTH_WAIT_MS / 1000} s`,
        '`flowtrace lab status` shows each target\'s health; `flowtrace lab heal` and try again', { what });
    }
    await sleep(200);
  }
}

const targetNamed = (targets: TargetHealth[], name: string): TargetHealth | undefined => targets.find((t) => t.name === name);

/**
 * Closes the ALB nodes' idle connections to the targets: requests after a fault changes open
 * new ones (as after the ALB's idle timeout). Returns once each node says it did (its
 * closed-file's count went up), so that no request sent after meets a connection from before.
 */
async function closeAlbIdleConnections(state: LabState): Promise<void> {
  const read = (node: 'alb-a' | 'alb-b'): string => { try { return fs.readFileSync(albClosedFile(node), 'utf8'); } catch { return ''; } };
  await Promise.all((['alb-a', 'alb-b'] as const).map(async (node) => {
    const p = state.processes[node];
    if (!p || !isTrackedAlive(p)) return;
    const before = read(node);
    process.kill(p.pid, 'SIGUSR2');
    for (let i = 0; i < 200 && read(node) === before && isTrackedAlive(p); i++) await sleep(5);
  }));
}

/**
 * `keepalive-race`'s traffic: two requests through each ALB node (round robin: one to each
 * target) leave each node an idle connection to each target; the wait lets the apps close them.
 */
async function leaveIdleConnections(): Promise<void> {
  for (const alb of [LAB.albA, LAB.albB]) {
    for (let i = 0; i < LAB.targets.length; i++) {
      await run(['ip', 'netns', 'exec', nsName('client'), 'curl', '-s', '-o', '/dev/null', '-m', '5', '--resolve', `${LAB.domain}:80:${alb.public}`, `http://${LAB.domain}/`]);
    }
  }
  await sleep(APP_SHORT_IDLE_CLOSE_MS + 300);
}

/** What a fault waits for once it is on, so that the next request meets it. */
async function settle(fault: LabFaultName): Promise<void> {
  switch (fault) {
    case 'target-unhealthy':
      return waitTargetHealth((ts) => targetNamed(ts, TARGET_OUT)?.state === 'unhealthy', `${TARGET_OUT} unhealthy`);
    case 'targets-unhealthy':
    case 'healthcheck-404':
      return waitTargetHealth((ts) => ts.length > 0 && ts.every((t) => t.state === 'unhealthy'), 'every target unhealthy');
    case 'keepalive-race':
      // The apps restarted with the short keep-alive: in service again, then the idle connections.
      await waitTargetHealth((ts) => ts.every((t) => t.state === 'healthy'), 'every target healthy');
      return leaveIdleConnections();
    default:
      return;
  }
}

/** Where `labFollowArgs` writes the target group's health, as `aws elbv2 describe-target-health` prints it. */
export const TARGET_HEALTH_FILE = path.join(LAB.runDir, 'describe-target-health.json');

/**
 * The arguments that tell `flowtrace follow` the lab's load balancer: a capture on each of
 * `servers` (default: each target, `--server netns:ec2-a --server netns:ec2-b`), its nodes'
 * and targets' names and zones, its access log, and its targets' health now (written to
 * TARGET_HEALTH_FILE).
 */
export function labFollowArgs(servers: readonly string[] = LAB.targets.map((t) => `netns:${t.name}`)): string[] {
  fs.writeFileSync(TARGET_HEALTH_FILE, JSON.stringify(labStatus().describeTargetHealth, null, 2) + '\n');
  return [
    ...servers.flatMap((s) => ['--server', s]),
    ...LAB.targets.flatMap((t) => ['--target-name', `${t.ens5}=${t.name}@${t.zone}`]),
    '--lb-name', `${LAB.albA.public}=alb-a@${LAB.albA.zone}`, '--lb-name', `${LAB.albB.public}=alb-b@${LAB.albB.zone}`,
    '--alb-log', LAB.accessLogDir, '--target-health', TARGET_HEALTH_FILE,
  ];
}

/**
 * Closes the ALB nodes' idle connections to the targets, as their idle timeout would: the next
 * requests open new connections (what a change made by hand, outside `lab fault`, needs in a
 * test, so that its requests meet the change rather than a connection made before it).
 */
export async function dropAlbIdleConnections(): Promise<void> {
  const state = readState();
  if (state) await closeAlbIdleConnections(state);
}

/** Turns a fault on. Idempotent. Returns the active faults. */
export async function injectFault(name: string, opts: LabSessionOptions = {}): Promise<LabFaultName[]> {
  const fault = requireFault(name);
  return withUpState(opts, async (state) => {
    const already = state.faults.includes(fault);
    if (!already && NEEDS_HEALTHY_TARGETS.includes(fault)) {
      await waitTargetHealth((ts) => ts.every((t) => t.state === 'healthy' || t.state === 'draining'), 'every target healthy');
    }
    if (!already) state.faults.push(fault);
    if (SERVICE_FAULTS.includes(fault)) await reconcileServices(state);
    await setNetworkFault(fault, true);
    if (!already) {
      await closeAlbIdleConnections(state);
      await settle(fault);
    }
    return state.faults.filter(isLabFault);
  });
}

/** Turns one fault (or, without a name, every fault) off. Idempotent. Returns the active faults. */
export async function healFault(name?: string, opts: LabSessionOptions = {}): Promise<LabFaultName[]> {
  const only = name === undefined ? null : requireFault(name);
  return withUpState(opts, async (state) => {
    const healing = only ? [only] : (Object.keys(LAB_FAULTS) as LabFaultName[]);
    // Network settings are removed even if the state does not list them (idempotent, and
    // it repairs rules someone changed by hand).
    for (const f of healing) await setNetworkFault(f, false);
    state.faults = state.faults.filter((f) => !healing.includes(f as LabFaultName));
    // Faults that share a setting with a healed one (the route of rp-filter and
    // asymmetric-route, the ARP timing on docker0) are put back.
    for (const f of state.faults) {
      if (isLabFault(f)) await setNetworkFault(f, true);
    }
    await reconcileServices(state);
    await closeAlbIdleConnections(state);
    return state.faults.filter(isLabFault);
  });
}
