/**
 * The programs a live capture runs, and the one way they are run.
 *
 * - `ProcessRunner` is the seam: `run` (to completion, output collected, never throws) for
 *   ip/iptables-save/nsenter, `start` (a long-lived child with pipes) for tcpdump and the
 *   agent. `systemRunner` is the real one; tests pass a scripted runner.
 * - `inNamespace(netns, argv)` is the one place that writes `ip netns exec NAME …` for
 *   capture/live and agent.
 * - `requireCaptureTools` checks tcpdump (the engine) and `ip` (interfaces, `ip netns
 *   exec`) before anything runs. tcpdump is checked first: without it there is no capture at
 *   all, while `ip` only lists the interfaces — a user missing both must be told about
 *   tcpdump first. The lookup is the one spawn() does (each PATH directory in order,
 *   executable bit), so a program found here is the program that runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import fs from 'node:fs';
import path from 'node:path';
import { MissingDependencyError } from '../../errors.js';

/** Debian package of each program capture/live runs (for the `apt-get install` hint). */
export const CAPTURE_PROGRAM_PACKAGE: Readonly<Record<string, string>> = {
  tcpdump: 'tcpdump', ip: 'iproute2', timeout: 'coreutils', nsenter: 'util-linux', 'iptables-save': 'iptables',
};

/** The full path spawn() would run for `program`, or null when no PATH directory has it. */
export function findOnPath(program: string, pathVariable: string | undefined = process.env.PATH): string | null {
  for (const dir of (pathVariable ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const full = path.join(dir, program);
    try {
      fs.accessSync(full, fs.constants.X_OK);
      if (fs.statSync(full).isFile()) return full;
    } catch { /* not here */ }
  }
  return null;
}

/** The MissingDependencyError for a program that could not be started. */
export function missingProgram(program: string, facts: Record<string, unknown> = {}): MissingDependencyError {
  return new MissingDependencyError(program, CAPTURE_PROGRAM_PACKAGE[program] ?? program, facts);
}

/**
 * Throws MissingDependencyError for the first missing program a live capture needs, in
 * order of importance: tcpdump, then ip.
 */
export function requireCaptureTools(pathVariable: string | undefined = process.env.PATH): void {
  for (const program of ['tcpdump', 'ip']) {
    if (findOnPath(program, pathVariable) === null) throw missingProgram(program);
  }
}

/** `argv` run inside the named network namespace (`ip netns exec NAME …`), or as is when null. */
export function inNamespace(netns: string | null, argv: readonly string[]): string[] {
  return netns === null ? [...argv] : ['ip', 'netns', 'exec', netns, ...argv];
}

export interface ProgramResult {
  /** Exit code; null when killed (timeout) or never started. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** argv[0] was not found (spawn's ENOENT). */
  missing: boolean;
}

export interface StartOptions {
  /** stdin of the child: a pipe (the agent's protocol) or nothing (tcpdump). */
  stdin: 'pipe' | 'ignore';
  /** Its own process group (tcpdump: a terminal's Ctrl-C reaches flowtrace only). */
  detached?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** How capture/live and agent run programs (argv arrays, never a shell). */
export interface ProcessRunner {
  /** Runs `argv` to completion and collects its output; never throws. */
  run(argv: readonly string[], options?: { timeoutMs?: number }): Promise<ProgramResult>;
  /** Starts a long-lived child with stdout and stderr piped (errors arrive as its 'error' event). */
  start(argv: readonly string[], options: StartOptions): PipedChild;
}

/** A started child: stdout and stderr are always pipes (stdin when asked). */
export type PipedChild = ChildProcess & { readonly stdout: Readable; readonly stderr: Readable };

/** Default bound of `run` (ip, iptables-save and nsenter answer in milliseconds). */
export const RUN_TIMEOUT_MS = 5000;

/** The real runner: node:child_process. */
export const systemRunner: ProcessRunner = {
  run(argv, options = {}) {
    return new Promise((resolve) => {
      let stdout = '';
      let stderr = '';
      let missing = false;
      const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? RUN_TIMEOUT_MS });
      child.stdout.setEncoding('utf8').on('data', (t: string) => { stdout += t; });
      child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t; });
      child.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') missing = true; });
      child.on('close', (code) => resolve({ code: missing ? null : code, stdout, stderr, missing }));
    });
  },
  start(argv, options) {
    return spawn(argv[0], argv.slice(1), { stdio: [options.stdin, 'pipe', 'pipe'], detached: options.detached === true, env: options.env ?? process.env }) as PipedChild;
  },
};
