/**
 * Running the dns/http probes inside the lab (as a user on the client node would), for the
 * lab integration tests of test/dns and test/http. Faults change the lab for everyone, so a
 * test file that injects them waits until no other run has a lab up, builds its own, and
 * tears it down in its after hook (the same rule as test/trace/lab.test.ts).
 */
import { performance } from 'node:perf_hooks';
import { healFault, labDown, labExec, labStatus, labUp } from '../../src/lab/index.js';
import { selfCliArgv } from '../../src/self.js';

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
export const LAB_SKIP: string | false = IS_ROOT ? false : 'needs root: the lab creates network namespaces (run the tests as root)';
const LAB_WAIT_MS = Number(process.env.FT_LAB_WAIT_S ?? 600) * 1000;

let ownLab = false;

/** Waits for any other run's lab to go away, then brings up our own. */
export async function takeLab(): Promise<void> {
  const deadline = performance.now() + LAB_WAIT_MS;
  for (;;) {
    if (!labStatus().up) {
      const s = await labUp();
      if (!s.alreadyUp) {
        ownLab = true;
        return;
      }
    }
    if (performance.now() > deadline) throw new Error(`the lab is in use by another run for more than ${LAB_WAIT_MS / 1000} s (set FT_LAB_WAIT_S to wait longer)`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** Heals and removes our lab (only if we built it). Safe after a failed takeLab. */
export async function releaseLab(): Promise<void> {
  if (!ownLab) return;
  ownLab = false;
  try {
    await healFault();
  } finally {
    await labDown();
  }
}

export interface CliRun<T> {
  code: number;
  stdout: string;
  stderr: string;
  /** The --json result, or null when the command printed none. */
  json: T | null;
}

/** `flowtrace ARGS…` inside ft-client (its resolv.conf names the lab's DNS server). */
export async function flowtraceInClient<T>(args: string[], timeoutMs = 30_000): Promise<CliRun<T>> {
  const r = await labExec('client', [...selfCliArgv(), ...args], { timeoutMs });
  let json: T | null = null;
  if (args.includes('--json')) {
    try { json = JSON.parse(r.stdout) as T; } catch { /* no result printed: stderr says why */ }
  }
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, json };
}
