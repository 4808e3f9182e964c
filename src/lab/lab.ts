/**
 * The lab's lifecycle: up (idempotent, recovers from a killed run), down, status, exec in
 * a node, faults. One lab at a time (a lock with the owner's PID).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import { EXIT, FlowtraceError, LabError, PrivilegeError, UsageError } from '../errors.js';
import { PACKAGE_ROOT } from '../self.js';
import { LAB_FAULTS, SERVICE_FAULTS, isLabFault, setNetworkFault, type LabFaultName } from './faults.js';
import { buildTopology, destroyTopology, existingLabNamespaces, namespaceExists, namespaceInode } from './netns.js';
import { makePki } from './pki.js';
import { makeSshAccess, removeSshUser } from './ssh.js';
import { albHealthFile, desiredServices, logFile, reconcileServices, SERVICE_NODE } from './services.js';
import {
  SESSION_FILE as SESSION_FILE_PATH, acquireLock, claimSession, isTrackedAlive, sessionOwner, readState, releaseSession, sessionHeldByOther, writeState,
  type LabState, type ServiceName,
} from './state.js';
import { requirePrograms, run, sleep, terminate, type RunResult } from './system.js';
import { LAB, LAB_NODES, LAB_REVISION, isLabNode, nsName, type LabNode } from './topology.js';
import type { TargetHealth } from './alb.js';

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
  targetHealth: { node: 'alb-a' | 'alb-b'; targets: TargetHealth[] }[];
  /** Whether `labUp` found the lab already up (it then changed nothing). */
  alreadyUp?: boolean;
  /** The live process that owns the lab session (null: free; a dead owner frees it). */
  sessionOwnerPid: number | null;
  lab: typeof LAB;
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
  const services: LabServiceStatus[] = (['dnsmasq', 'alb-a', 'alb-b', 'app', 'sshd-bastion', 'sshd-ec2'] as ServiceName[]).map((name) => {
    const p = state?.processes[name];
    return { name, node: SERVICE_NODE[name], pid: p?.pid ?? null, alive: p ? isTrackedAlive(p) : false, log: logFile(name) };
  });
  const faults = (state?.faults ?? []).filter(isLabFault);
  const targetHealth = (['alb-a', 'alb-b'] as const).map((node) => {
    try {
      const h = JSON.parse(fs.readFileSync(albHealthFile(node), 'utf8')) as { targets: TargetHealth[] };
      return { node, targets: h.targets };
    } catch {
      return { node, targets: [] };
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
  return { up, upSince: state?.upSince ?? null, nodes, services, faults, targetHealth, sessionOwnerPid: ownerAlive ? owner.pid : null, lab: LAB };
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
  if (!isLabNode(node)) {
    throw new UsageError(`unknown lab node '${node}'`, `nodes: ${LAB_NODES.join(', ')}`, { node });
  }
  return node;
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

/** Turns a fault on. Idempotent. Returns the active faults. */
export async function injectFault(name: string, opts: LabSessionOptions = {}): Promise<LabFaultName[]> {
  const fault = requireFault(name);
  return withUpState(opts, async (state) => {
    if (!state.faults.includes(fault)) state.faults.push(fault);
    if (SERVICE_FAULTS.includes(fault)) await reconcileServices(state);
    else await setNetworkFault(fault, true);
    return state.faults.filter(isLabFault);
  });
}

/** Turns one fault (or, without a name, every fault) off. Idempotent. Returns the active faults. */
export async function healFault(name?: string, opts: LabSessionOptions = {}): Promise<LabFaultName[]> {
  const only = name === undefined ? null : requireFault(name);
  return withUpState(opts, async (state) => {
    const healing = only ? [only] : (Object.keys(LAB_FAULTS) as LabFaultName[]);
    for (const f of healing) {
      // Network faults are removed even if the state does not list them (idempotent, and
      // it repairs rules someone changed by hand).
      if (!SERVICE_FAULTS.includes(f)) await setNetworkFault(f, false);
    }
    state.faults = state.faults.filter((f) => !healing.includes(f as LabFaultName));
    // Faults that share a setting with a healed one (the route of rp-filter and
    // asymmetric-route, the ARP timing on docker0) are put back.
    for (const f of state.faults) {
      if (isLabFault(f) && !SERVICE_FAULTS.includes(f)) await setNetworkFault(f, true);
    }
    await reconcileServices(state);
    return state.faults.filter(isLabFault);
  });
}
