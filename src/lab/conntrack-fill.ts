/**
 * The `conntrack-full` fault: ft-ec2's connection-tracking table filled to the limit, so the
 * kernel refuses new entries ("nf_conntrack: table full in netns N, dropping packet") and
 * drops the SYNs that would need one.
 *
 * Why this stays inside ft-ec2 (kernel 6.18, net/netfilter/nf_conntrack_core.c,
 * __nf_conntrack_alloc): each namespace counts its own entries (`cnet->count`, what
 * `net.netfilter.nf_conntrack_count` shows in that namespace) and the count is compared with
 * the one machine-wide `nf_conntrack_max` (read-only outside the initial namespace). So
 * filling ft-ec2's count up to the max leaves the machine's own count, and its new
 * connections, alone; the max itself is never written. The filler entries are ASSURED
 * (early_drop only evicts unassured ones, so they stay), carry a mark of their own (heal
 * deletes exactly them) and are deleted with the namespace by `lab down`.
 *
 * Cost, measured with the max at 262144 (2 cores): 2–2.5 s to insert them (two
 * `conntrack -R` batches in parallel; 4–7 s while other lab tests load the machine), ~100 MB
 * of kernel slab while they exist, ~0.3 s to flush them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { run } from './system.js';
import { LAB, nsName } from './topology.js';

/** The mark on every filler entry ("ftcf"). */
export const CONNTRACK_FILL_MARK = '0x66746366';

/** Above this machine-wide max the fault refuses: the memory it would pin is not bounded enough. */
export const CONNTRACK_FILL_LIMIT = 300_000;

/** Filler entries live this long unless healed (a forgotten fault still ends with `lab down`). */
const FILL_TIMEOUT_S = 86_400;

/** Sources of the filler entries: the benchmarking range (RFC 2544), never a lab address. */
const FILL_NET_BASE = (198 << 24) | (18 << 16);
const FILL_NET_SIZE = 1 << 17; // 198.18.0.0/15

function inEc2(argv: string[]): string[] {
  return ['ip', 'netns', 'exec', nsName('ec2'), ...argv];
}

async function readSysctl(key: string): Promise<number> {
  const r = await run(inEc2(['sysctl', '-n', key]));
  const v = Number(r.stdout.trim());
  if (r.code !== 0 || !Number.isInteger(v)) {
    throw new LabError('LAB_FAULT', `reading ${key} in ft-ec2 failed: ${r.stderr.trim() || r.stdout.trim()}`,
      'is the nf_conntrack module loaded? (the lab\'s iptables rules load it)', { key });
  }
  return v;
}

/** conntrack -R lines for filler entries first … first + n − 1 (each tuple unique). */
function fillLines(first: number, n: number): string {
  const lines: string[] = [];
  for (let i = first; i < first + n; i++) {
    const a = FILL_NET_BASE + (i % FILL_NET_SIZE);
    const src = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
    const sport = 40_000 + Math.floor(i / FILL_NET_SIZE);
    lines.push(`-I -p tcp -s ${src} -d ${LAB.instance.ens5} --sport ${sport} --dport ${LAB.instance.port} --state ESTABLISHED -u ASSURED,SEEN_REPLY -t ${FILL_TIMEOUT_S} -m ${CONNTRACK_FILL_MARK}`);
  }
  lines.push('');
  return lines.join('\n');
}

/**
 * Inserts n filler entries from index `first`, in two parallel batches (one per core here).
 * The batches go through files: `conntrack -R -` cannot open a socket as /dev/stdin, and a
 * child's stdin from Node is a socket.
 */
async function insert(first: number, n: number): Promise<void> {
  const half = Math.ceil(n / 2);
  const batches = [[first, half], [first + half, n - half]].filter(([, k]) => k! > 0);
  const files = batches.map((_, i) => path.join(LAB.runDir, `conntrack-fill.${process.pid}.${i}`));
  try {
    batches.forEach(([from, k], i) => fs.writeFileSync(files[i]!, fillLines(from!, k!)));
    // A batch stops at its first refused entry (the table filled up meanwhile): that is the goal.
    await Promise.all(files.map((f) => run(inEc2(['conntrack', '-R', f]))));
  } finally {
    for (const f of files) fs.rmSync(f, { force: true });
  }
}

/**
 * Drops what ens5 forwards while the table is being filled (see fillConntrack). A packet
 * dropped in FORWARD takes its still unconfirmed conntrack entry with it, so it leaves
 * nothing in the table; and FORWARD exists already (a raw-table rule would leave the raw
 * table behind in iptables-save).
 */
const HOLD_RULE = ['-i', 'ens5', '-j', 'DROP'];

async function hold(on: boolean): Promise<void> {
  const there = (await run(inEc2(['iptables', '-w', '-C', 'FORWARD', ...HOLD_RULE]))).code === 0;
  if (on && !there) await run(inEc2(['iptables', '-w', '-I', 'FORWARD', '1', ...HOLD_RULE]));
  if (!on && there) await run(inEc2(['iptables', '-w', '-D', 'FORWARD', ...HOLD_RULE]));
}

/**
 * Fills ft-ec2's table to the machine-wide max with filler entries only. Idempotent.
 *
 * The lab's own entries (health checks, requests) must not stay in the table: each ends
 * within minutes (TIME_WAIT: 120 s) and the slot it frees lets one new connection in, so
 * the fault would leak. So for the few seconds of the fill the host forwards nothing from
 * ens5 (a FORWARD drop, removed right after: the full table then drops the same SYNs), the
 * table is flushed and filled; what is left is filler entries that last a day.
 */
export async function fillConntrack(): Promise<void> {
  const max = await readSysctl('net.netfilter.nf_conntrack_max');
  if (max > CONNTRACK_FILL_LIMIT) {
    throw new LabError('LAB_FAULT_UNSAFE', `conntrack-full would pin ${max} conntrack entries (nf_conntrack_max), more than the ${CONNTRACK_FILL_LIMIT} the lab allows itself`,
      'the fault is only offered where the machine-wide nf_conntrack_max is at most 300000; the lab never changes that value', { max, limit: CONNTRACK_FILL_LIMIT });
  }
  if (await readSysctl('net.netfilter.nf_conntrack_count') >= max) return; // already full
  await hold(true);
  try {
    await run(inEc2(['conntrack', '-F']));
    // A batch that meets a refused entry stops there: a second round fills what it left.
    let next = 0;
    for (let round = 0; round < 3; round++) {
      const missing = max - await readSysctl('net.netfilter.nf_conntrack_count');
      if (missing <= 0) return;
      await insert(next, missing);
      next += missing;
    }
  } finally {
    await hold(false);
  }
}

/**
 * Deletes every filler entry. Idempotent. A full table holds nothing but filler entries (no
 * other entry can be made), so a flush — done in the kernel, instantly — is exact then;
 * otherwise only entries with the filler mark are deleted.
 */
export async function drainConntrack(): Promise<void> {
  const max = await readSysctl('net.netfilter.nf_conntrack_max');
  if (await readSysctl('net.netfilter.nf_conntrack_count') >= max) {
    await run(inEc2(['conntrack', '-F']));
    return;
  }
  // conntrack -D dumps and deletes; a dump that runs while entries go can miss some: repeat.
  for (let round = 0; round < 5; round++) {
    const r = await run(inEc2(['conntrack', '-D', '-m', CONNTRACK_FILL_MARK]));
    const m = /(\d+) flow entries have been deleted/.exec(r.stderr);
    if (!m || Number(m[1]) === 0) return;
  }
}
