/**
 * The programs a live capture runs, checked before anything runs: tcpdump (the engine) and
 * `ip` (interfaces, `ip netns exec`). tcpdump is checked first: without it there is no
 * capture at all, while `ip` only lists the interfaces — a user missing both must be told
 * about tcpdump first.
 *
 * The lookup is the one spawn() does (each PATH directory in order, executable bit), so a
 * program found here is the program that runs.
 */
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
