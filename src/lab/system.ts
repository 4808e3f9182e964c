/**
 * The lab's one window on the system: running programs (ip, iptables, nft, openssl,
 * dnsmasq) and starting long-lived processes. Everything goes through argv arrays, never
 * a shell string.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import { LabError, MissingDependencyError } from '../errors.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Debian package for each program the lab runs (for the missing-dependency hint). */
const DEBIAN_PACKAGE: Record<string, string> = {
  ip: 'iproute2', iptables: 'iptables', 'iptables-restore': 'iptables', nft: 'nftables',
  dnsmasq: 'dnsmasq', openssl: 'openssl', lsns: 'util-linux', sysctl: 'procps',
  sshd: 'openssh-server', 'ssh-keygen': 'openssh-client', visudo: 'sudo', useradd: 'passwd',
};

/** Throws MissingDependencyError for the first program not found on PATH (or /usr/sbin, /sbin). */
export function requirePrograms(programs: string[]): void {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const prog of programs) {
    const found = dirs.some((d) => {
      try { fs.accessSync(`${d}/${prog}`, fs.constants.X_OK); return true; } catch { return false; }
    });
    if (!found) throw new MissingDependencyError(prog, DEBIAN_PACKAGE[prog] ?? prog);
  }
}

/** Runs a program to completion; never throws for a non-zero exit (the caller decides). */
export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    if (file === undefined) { reject(new Error('run: empty argv')); return; }
    const child = spawn(file, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      cwd: opts.cwd,
      env: opts.env,
      signal: opts.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => { child.kill('SIGKILL'); }, opts.timeoutMs);
    }
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (e.code === 'ENOENT') {
        const prog = file.split('/').pop() ?? file;
        reject(new MissingDependencyError(prog, DEBIAN_PACKAGE[prog] ?? prog));
        return;
      }
      if (e.name === 'AbortError') { reject(e); return; }
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 + 9 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    if (opts.input !== undefined) {
      // A program that exits without reading all of its input must not crash this process (EPIPE).
      child.stdin!.on('error', () => { /* its exit code tells */ });
      child.stdin!.end(opts.input);
    }
  });
}

/** Runs a program and throws a LabError (with its stderr) when it fails. */
export async function runChecked(argv: string[], what: string, opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    const detail = r.stderr.trim().split('\n').slice(0, 3).join('; ');
    throw new LabError('LAB_BUILD', `${what} failed: ${argv.slice(0, 8).join(' ')}: ${detail || `exit ${r.code}`}`,
      'run `flowtrace lab down` then `flowtrace lab up` again; if it persists, check that iproute2/iptables/nftables work as root here',
      { argv, code: r.code, stderr: r.stderr });
  }
  return r;
}

/**
 * Starts a long-lived process detached from this one (it outlives the CLI), with stdout
 * and stderr appended to `logFile`. Returns its PID.
 */
export function spawnDetached(argv: string[], logFile: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): number {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('spawnDetached: empty argv');
  const fd = fs.openSync(logFile, 'a');
  try {
    const spawnOpts: SpawnOptions = { detached: true, stdio: ['ignore', fd, fd], cwd: opts.cwd, env: opts.env };
    const child: ChildProcess = spawn(file, args, spawnOpts);
    child.on('error', () => { /* reported through the readiness check */ });
    child.unref();
    if (child.pid === undefined) throw new LabError('LAB_SPAWN', `could not start ${file}`, 'check that the program exists and is executable', { argv });
    return child.pid;
  } finally {
    fs.closeSync(fd);
  }
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or null if gone. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); field 22 is rest[19].
    const v = Number(rest[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** Inode of a process's network namespace, or null if the process is gone. */
export function processNetns(pid: number): number | null {
  try {
    return fs.statSync(`/proc/${pid}/ns/net`).ino;
  } catch {
    return null;
  }
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. Resolves when the process is gone. */
export async function terminate(pid: number, graceMs = 500): Promise<void> {
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = performance.now() + graceMs;
  while (performance.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(10);
  }
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  const killDeadline = performance.now() + 1000;
  while (performance.now() < killDeadline && isAlive(pid)) await sleep(10);
}
