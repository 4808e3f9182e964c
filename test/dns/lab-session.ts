/**
 * Running the dns/http probes inside the lab (as a user on the client node would), for the
 * lab integration tests of test/dns and test/http. Faults change the lab for everyone, so a
 * test file that injects them owns the lab session for its duration (src/lab/state.ts): no
 * other run's labUp, fault or heal changes the lab until it releases it or exits.
 */
import { readFileSync } from 'node:fs';
import { healFault, labDown, labExec, labUp, sessionHeldByOther } from '../../src/lab/index.js';
import { selfCliArgv } from '../../src/self.js';

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
export const LAB_SKIP: string | false = IS_ROOT ? false : 'needs root: the lab creates network namespaces (run the tests as root)';
const LAB_WAIT_MS = Number(process.env.FT_LAB_WAIT_S ?? 600) * 1000;

/** built: ours to take down; borrowed: was up with no live owner, left up (healed) after. */
let held: 'none' | 'built' | 'borrowed' = 'none';

/** `pid N (its command line)`, for the one line that says what we wait for. */
function describeProcess(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '').join(' ').replace(/\s+/g, ' ').trim();
    return `pid ${pid} (${argv.length > 100 ? `${argv.slice(0, 100)}…` : argv})`;
  } catch {
    return `pid ${pid}`;
  }
}

/**
 * Makes the lab ours for this test file. While another live process owns the lab session,
 * labUp waits for it (up to FT_LAB_WAIT_S, then LAB_BUSY): that is said once on stderr, with
 * the owner's pid. A lab that is up with no live owner (left by `flowtrace lab up`, or by a
 * killed run) is taken over as it is — labUp claims its session and reports `alreadyUp` — and
 * faults left on are healed first; it stays up afterwards. A lab that is down is built here
 * and taken down by releaseLab.
 */
export async function takeLab(): Promise<void> {
  const owner = sessionHeldByOther();
  if (owner !== null) {
    process.stderr.write(`lab-session: the lab is in use by ${describeProcess(owner.pid)}; waiting for it to finish (up to ${LAB_WAIT_MS / 1000} s, FT_LAB_WAIT_S)\n`);
  }
  const s = await labUp({ waitMs: LAB_WAIT_MS });
  held = s.alreadyUp ? 'borrowed' : 'built';
  if (s.alreadyUp && s.faults.length > 0) {
    process.stderr.write(`lab-session: using the lab that was up with no owner; healing the faults left on: ${s.faults.join(', ')}\n`);
    await healFault();
  }
}

/** Heals the lab; takes it down only if we built it. Safe after a failed takeLab. */
export async function releaseLab(): Promise<void> {
  const was = held;
  held = 'none';
  if (was === 'none') return;
  try {
    await healFault();
  } finally {
    if (was === 'built') await labDown();
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
