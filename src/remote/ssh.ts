/**
 * One ssh connection to a server, as the user's own ssh makes it, shared by every command of
 * a follow or a capture.
 *
 * - ssh is the system's OpenSSH client with the user's configuration: ~/.ssh/config aliases,
 *   User, Port, ProxyJump, IdentityFile, ssh-agent and known_hosts all apply. Host keys are
 *   checked as ssh checks them (nothing here relaxes StrictHostKeyChecking); BatchMode means
 *   ssh never prompts: an unknown key or a key that needs a passphrase fails with one line.
 * - One master connection (ControlMaster) in a private directory (mkdtemp: mode 0700, only
 *   this user can use the socket) carries every command as a session of its own: a command
 *   costs one round trip, not one handshake. ControlPersist bounds the master's life if
 *   flowtrace is killed before close(); close() asks it to exit and then checks its PID.
 * - Sessions run at most `maxSessions` at a time (sshd's MaxSessions is 10 by default).
 *
 * Lifecycle: 1. open: the master authenticates (`ssh -f -N`: ssh backgrounds it once logged
 * in, its own messages go to a log file), its PID is read with `-O check`; 2. exec/spawn:
 * sessions over it; 3. close: `-O exit`, the PID checked, the directory removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT, MissingDependencyError, RemoteError } from '../errors.js';
import type { PipedChild } from '../capture/index.js';
import { sshDestination, formatSshTarget, type SshTarget } from './target.js';

export interface SshOptions {
  /**
   * An ssh_config file read instead of ~/.ssh/config (ssh -F). Default: the environment's
   * FLOWTRACE_SSH_CONFIG, else ssh's own lookup.
   */
  configFile?: string | null;
  /** ssh's ConnectTimeout, seconds (default 10). */
  connectTimeoutSec?: number;
  /** How long an idle master stays when flowtrace could not close it (ControlPersist, seconds; default 15). */
  persistSec?: number;
  /** Commands run at the same time (default 8; the capture's session is on top). */
  maxSessions?: number;
  /** Environment of ssh (SSH_AUTH_SOCK for ssh-agent comes from here). */
  env?: NodeJS.ProcessEnv;
}

export const SSH_DEFAULTS = { connectTimeoutSec: 10, persistSec: 15, maxSessions: 8, serverAliveIntervalSec: 5, serverAliveCountMax: 3, closeGraceMs: 2000 } as const;

/** ssh's own words for a session that never reached the remote command (its exit code is 255). */
const SSH_OWN_FAILURE = /^(mux_client_\w+|Control socket connect|ssh: |Connection to \S+ closed|Connection closed by|client_loop: |Broken pipe|kex_exchange_identification|Timeout, server \S+ not responding|channel \d+: open failed|Session open refused)/m;
/** Warnings ssh prints on stderr that are not the remote command's. */
const SSH_NOISE = /^(Control socket connect\(.*\): No such file or directory|Warning: Permanently added .*|ControlSocket .* already exists, disabling multiplexing)\r?$/gm;

export interface ExecResult { code: number | null; stdout: string; stderr: string }

/** A long session: ssh with its three pipes. */
export type SessionChild = PipedChild & { readonly stdin: Writable };

export interface SshConnection {
  readonly target: SshTarget;
  /** `ssh://user@host[:port]` as given. */
  readonly label: string;
  /** PID of the master (from `ssh -O check`), null when it could not be read. */
  readonly masterPid: number | null;
  /** ssh's argv up to the remote command: a session over the master (the agent's transport uses it). */
  sessionArgv(): string[];
  /** Runs one remote command line to completion. Throws RemoteError when ssh itself failed. */
  exec(line: string, options?: { timeoutMs?: number }): Promise<ExecResult>;
  /** Starts one long remote command line with stdin, stdout and stderr piped (the capture). */
  spawn(line: string): SessionChild;
  /** Ends the master (by `-O exit`, then by its PID) and removes the private directory. */
  close(): Promise<void>;
}

function configFileOf(options: SshOptions): string | null {
  if (options.configFile !== undefined) return options.configFile;
  const env = (options.env ?? process.env).FLOWTRACE_SSH_CONFIG;
  return env === undefined || env === '' ? null : env;
}

/** The options of every ssh flowtrace runs: no prompt, a connect bound, the config file, the port. */
export function sshBaseArgv(target: SshTarget, options: SshOptions = {}): string[] {
  const config = configFileOf(options);
  const argv = ['ssh', '-T', '-o', 'BatchMode=yes', '-o', `ConnectTimeout=${options.connectTimeoutSec ?? SSH_DEFAULTS.connectTimeoutSec}`];
  if (config !== null) argv.push('-F', config);
  if (target.port !== null) argv.push('-p', String(target.port));
  return argv;
}

/** `ssh [-v] -p 2222 user@host true`: the command a user runs by hand to see what ssh says. */
function byHand(target: SshTarget, options: SshOptions, verbose = false): string {
  const config = configFileOf(options);
  return ['ssh', ...(verbose ? ['-v'] : []), ...(config ? ['-F', config] : []), ...(target.port !== null ? ['-p', String(target.port)] : []), sshDestination(target), 'true'].join(' ');
}

/** ssh's failure to connect or log in, as the error the user needs (one line and what to do). */
export function classifySshFailure(log: string, target: SshTarget, options: SshOptions = {}): RemoteError {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('@@@') && !/^Warning: Permanently added/.test(l));
  const last = lines[lines.length - 1] ?? 'ssh exited without saying why';
  const where = formatSshTarget(target);
  const hand = byHand(target, options);
  const facts = { target: where, ssh: last };
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/.test(log)) {
    return new RemoteError('SSH_HOST_KEY_CHANGED', `${where}: the server's host key is not the one known for it`,
      `if the server was rebuilt, check its new key's fingerprint with its owner, then remove the old one: ssh-keygen -R ${target.host}`, EXIT.agent, facts);
  }
  if (/Host key verification failed|No \S+ host key is known/.test(log)) {
    return new RemoteError('SSH_HOST_KEY_UNKNOWN', `${where}: the server's host key is not known here (ssh checks it against known_hosts; flowtrace never accepts one by itself)`,
      `check its fingerprint with the server's owner, then accept it once by hand: ${hand} (answer yes)`, EXIT.agent, facts);
  }
  if (/Permission denied \(|Too many authentication failures|no mutual signature|sign_and_send_pubkey/.test(log)) {
    return new RemoteError('SSH_AUTH', `${where}: ssh could not log in (${last})`,
      `flowtrace uses your ssh keys without prompting: load the key into ssh-agent (ssh-add KEY) or set IdentityFile for this host in ~/.ssh/config; try: ${hand}`, EXIT.agent, facts);
  }
  if (/Could not resolve hostname|Name or service not known/.test(log)) {
    return new RemoteError('SSH_CONNECT', `${where}: ${last}`, 'check the host name, or its alias in ~/.ssh/config', EXIT.agent, facts);
  }
  if (/Connection refused|Connection timed out|timed out|No route to host|Network is unreachable|Connection reset|Connection closed/.test(log)) {
    return new RemoteError('SSH_CONNECT', `${where}: ${last}`, `check that sshd listens there and the way to it (a bastion: ProxyJump in ~/.ssh/config); try: ${byHand(target, options, true)}`, EXIT.agent, facts);
  }
  return new RemoteError('SSH_FAILED', `${where}: ${last}`, `try it by hand: ${byHand(target, options, true)}`, EXIT.agent, facts);
}

/** A counting semaphore for sessions. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(size: number) { this.free = size; }
  async take(): Promise<void> {
    if (this.free > 0) { this.free--; return; }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next(); else this.free++;
  }
}

/** Whether `pid` still runs (a zombie waiting for its reaper does not). */
export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false; }
  try { return !/^\d+ \(.*\) Z/s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
}

/** Runs ssh's `-O` control commands (check, exit) to completion; resolves with its stderr and code. */
function control(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env, timeout: 5000 });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t; });
    child.on('error', () => resolve({ code: null, stderr }));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Opens the master connection (authenticates, checks the host key) and resolves once it carries sessions. */
export async function openSsh(target: SshTarget, options: SshOptions = {}): Promise<SshConnection> {
  const env = options.env ?? process.env;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowtrace-ssh-'));
  const controlPath = path.join(dir, 'master');
  const logFile = path.join(dir, 'ssh.log');
  const base = sshBaseArgv(target, options);
  const destination = sshDestination(target);
  const label = formatSshTarget(target);
  const connectMs = (options.connectTimeoutSec ?? SSH_DEFAULTS.connectTimeoutSec) * 1000;
  const masterArgv = [
    ...base, '-o', 'ControlMaster=yes', '-o', `ControlPath=${controlPath}`, '-o', `ControlPersist=${options.persistSec ?? SSH_DEFAULTS.persistSec}`,
    '-o', `ServerAliveInterval=${SSH_DEFAULTS.serverAliveIntervalSec}`, '-o', `ServerAliveCountMax=${SSH_DEFAULTS.serverAliveCountMax}`,
    '-E', logFile, '-f', '-N', destination,
  ];
  const cleanup = (): void => { fs.rmSync(dir, { recursive: true, force: true }); };

  // 1. The master: `-f` returns once logged in (0) or failed (255, its words in the log).
  const started = await new Promise<{ code: number | null; missing: boolean }>((resolve) => {
    let missing = false;
    const child = spawn(masterArgv[0]!, masterArgv.slice(1), { stdio: 'ignore', env });
    // Authentication may wait on a server that accepted the TCP connection and says nothing.
    const timer = setTimeout(() => child.kill('SIGTERM'), connectMs + 5000);
    child.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') missing = true; });
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, missing }); });
  });
  if (started.missing) { cleanup(); throw new MissingDependencyError('ssh', 'openssh-client', { target: label }); }
  if (started.code !== 0) {
    let log = '';
    try { log = fs.readFileSync(logFile, 'utf8'); } catch { /* none written */ }
    cleanup();
    if (started.code === null) log += `\nssh: no answer from ${target.host} within ${connectMs / 1000 + 5} s (timed out)`;
    throw classifySshFailure(log, target, options);
  }
  const sessionBase = [...base, '-S', controlPath, '-o', 'ControlMaster=no'];
  const check = await control([...sessionBase, '-O', 'check', destination], env);
  const pidMatch = /pid=(\d+)/.exec(check.stderr);
  const masterPid = pidMatch ? Number(pidMatch[1]) : null;

  const slots = new Slots(options.maxSessions ?? SSH_DEFAULTS.maxSessions);
  const children = new Set<ChildProcess>();
  let closed = false;
  const lost = (stderr: string, code: number | null): RemoteError => {
    const line = stderr.trim().split('\n').filter((l) => SSH_OWN_FAILURE.test(l)).slice(-1)[0] ?? `ssh exited with ${code}`;
    return new RemoteError('SSH_LOST', `${label}: the ssh connection failed (${line.trim()})`, `check the connection by hand: ${byHand(target, options)}`, EXIT.agent, { target: label, stderr: stderr.slice(-2000) });
  };
  const sessionArgv = (): string[] => [...sessionBase, destination, '--'];

  return {
    target,
    label,
    masterPid,
    sessionArgv,
    async exec(line, o = {}) {
      if (closed) throw lost('', null);
      await slots.take();
      try {
        return await new Promise<ExecResult>((resolve, reject) => {
          const argv = [...sessionArgv(), line];
          const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
          children.add(child);
          let stdout = '';
          let stderr = '';
          let timedOut = false;
          const timer = o.timeoutMs !== undefined ? setTimeout(() => { timedOut = true; child.kill('SIGTERM'); }, o.timeoutMs) : undefined;
          child.stdout.setEncoding('utf8').on('data', (t: string) => { stdout += t; });
          child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t; });
          child.on('error', (err) => { clearTimeout(timer); children.delete(child); reject(new RemoteError('SSH_FAILED', `${label}: could not start ssh: ${err.message}`, 'check that ssh is installed (apt-get install openssh-client)')); });
          child.on('close', (code) => {
            clearTimeout(timer);
            children.delete(child);
            if (timedOut) { resolve({ code: null, stdout, stderr: stderr.replace(SSH_NOISE, '') }); return; }
            if (code === 255 && SSH_OWN_FAILURE.test(stderr)) { reject(lost(stderr, code)); return; }
            resolve({ code, stdout, stderr: stderr.replace(SSH_NOISE, '').replace(/^\n+/, '') });
          });
        });
      } finally {
        slots.give();
      }
    },
    spawn(line) {
      const argv = [...sessionArgv(), line];
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env }) as SessionChild;
      // Not counted in `maxSessions`: sshd's 10 leave room for the one capture (or agent) beside 8 commands.
      children.add(child);
      child.on('close', () => { children.delete(child); });
      return child;
    },
    async close() {
      if (closed) return;
      closed = true;
      // Sessions still open end with the master; their remote commands see the end of input.
      await control([...sessionBase, '-O', 'exit', destination], env);
      if (masterPid !== null) {
        const deadline = performance.now() + SSH_DEFAULTS.closeGraceMs;
        while (pidAlive(masterPid) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        if (pidAlive(masterPid)) { try { process.kill(masterPid, 'SIGTERM'); } catch { /* gone */ } }
      }
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      cleanup();
    },
  };
}
