/**
 * The lab's state on disk: the run directory (state file, logs, certificates, ALB
 * configs), the processes it started (PID + start time, so a reused PID is never killed),
 * the active faults, and the lock that allows one lab operation at a time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { LAB } from './topology.js';
import { isAlive, processStartTime, sleep } from './system.js';

export type ServiceName = 'dnsmasq' | 'alb-a' | 'alb-b' | 'app' | 'sshd-bastion' | 'sshd-ec2';

export interface TrackedProcess {
  pid: number;
  /** /proc/PID/stat start time: identifies this process even if the PID is reused later. */
  startTime: number | null;
  node: string;
  argv: string[];
  /** LAB_REVISION of the flowtrace that started it (absent: an older one). */
  revision?: number;
}

export interface LabState {
  version: 1;
  /** LAB_REVISION of the flowtrace that built it (absent: built before revisions existed). */
  revision?: number;
  /** ISO time the lab came up. */
  upSince: string;
  processes: Partial<Record<ServiceName, TrackedProcess>>;
  faults: string[];
  /** Options the app runs with (app-slow / app-500 change them). */
  app: { delayMs: number; status: number };
}

export const STATE_FILE = path.join(LAB.runDir, 'state.json');
/** The lock lives outside the run dir so it survives the run dir's removal. */
export const LOCK_FILE = '/run/flowtrace-lab.lock';

export function readState(): LabState | null {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as LabState;
  } catch {
    return null;
  }
}

export function writeState(state: LabState): void {
  fs.mkdirSync(LAB.runDir, { recursive: true, mode: 0o755 });
  const tmp = `${STATE_FILE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  fs.renameSync(tmp, STATE_FILE);
}

/** True if the tracked process is still the one we started. */
export function isTrackedAlive(p: TrackedProcess): boolean {
  if (!isAlive(p.pid)) return false;
  return p.startTime === null || processStartTime(p.pid) === p.startTime;
}

/**
 * Takes the lab lock (a file holding the owner's PID). A lock whose owner is dead is stale
 * and taken over. Waits up to `waitMs` for a live owner, then throws LAB_LOCKED.
 * Returns the release function.
 */
export async function acquireLock(waitMs = 60_000): Promise<() => void> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    try {
      const fd = fs.openSync(LOCK_FILE, 'wx', 0o644);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (fs.readFileSync(LOCK_FILE, 'utf8').trim() === String(process.pid)) fs.unlinkSync(LOCK_FILE);
        } catch { /* already gone */ }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = NaN;
    try { owner = Number(fs.readFileSync(LOCK_FILE, 'utf8').trim()); } catch { continue; }
    if (!Number.isInteger(owner) || owner <= 0 || (!isAlive(owner) && owner !== process.pid)) {
      // Stale: the owner died. Remove it only if it still holds the same content.
      try {
        const now = Number(fs.readFileSync(LOCK_FILE, 'utf8').trim());
        if (now === owner || (Number.isNaN(now) && Number.isNaN(owner))) fs.unlinkSync(LOCK_FILE);
      } catch { /* someone else took it over */ }
      continue;
    }
    if (owner === process.pid) {
      throw new LabError('LAB_LOCKED', 'this process already holds the lab lock (nested lab operation)', 'do not call lab functions concurrently from one process', { lockFile: LOCK_FILE });
    }
    if (performance.now() > deadline) {
      throw new LabError('LAB_LOCKED', `another flowtrace lab operation is running (pid ${owner})`,
        `wait for it to finish, or stop it (kill ${owner}); the lock is ${LOCK_FILE}`, { owner, lockFile: LOCK_FILE });
    }
    await sleep(50);
  }
}

/**
 * The lab session: the process that brought the lab up (or took it over) owns it until it
 * calls labDown or exits. Other processes' labUp / fault / heal wait for it, so two test
 * runs never change one lab under each other. A short-lived CLI (`flowtrace lab up`)
 * exits at once, which leaves the session free for the next user.
 */
export const SESSION_FILE = '/run/flowtrace-lab.session';

export interface SessionOwner {
  pid: number;
  startTime: number | null;
}

export function sessionOwner(): SessionOwner | null {
  try {
    const [pid, start] = fs.readFileSync(SESSION_FILE, 'utf8').trim().split(' ');
    const owner = { pid: Number(pid), startTime: start === undefined || start === 'null' ? null : Number(start) };
    if (!Number.isInteger(owner.pid) || owner.pid <= 0) return null;
    return owner;
  } catch {
    return null;
  }
}

function parentPid(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : null;
  } catch {
    return null;
  }
}

/** True when `ancestor` is this process's parent, grandparent, … */
function isAncestor(ancestor: number): boolean {
  let p = parentPid(process.pid);
  for (let depth = 0; p !== null && depth < 64; depth++) {
    if (p === ancestor) return true;
    p = parentPid(p);
  }
  return false;
}

function ownerAlive(o: SessionOwner): boolean {
  return isAlive(o.pid) && (o.startTime === null || processStartTime(o.pid) === o.startTime);
}

/**
 * The live owner of the session when it is neither this process nor one of its ancestors
 * (a session owner's children — e.g. `flowtrace lab up` run by a test — act in its session).
 */
export function sessionHeldByOther(): SessionOwner | null {
  const o = sessionOwner();
  if (!o || o.pid === process.pid || !ownerAlive(o) || isAncestor(o.pid)) return null;
  return o;
}

/** Makes this process the owner, unless a live ancestor already is (its session is shared). */
export function claimSession(): void {
  const o = sessionOwner();
  if (o && o.pid !== process.pid && ownerAlive(o) && isAncestor(o.pid)) return;
  fs.writeFileSync(SESSION_FILE, `${process.pid} ${processStartTime(process.pid)}\n`);
}

export function releaseSession(): void {
  const o = sessionOwner();
  if (o && o.pid === process.pid) fs.rmSync(SESSION_FILE, { force: true });
}
