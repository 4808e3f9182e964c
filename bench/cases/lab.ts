/**
 * `npm run bench -- lab`: time of `lab up` + `lab down` (goal ≤ 2 s), median of several
 * runs, against the floor of the same work done by iproute2 alone (10 namespaces and 10
 * veth pairs created and deleted with `ip -batch`, no addresses, services or rules).
 * Needs root; the baseline's namespaces carry the prefix fttlab- and are always removed.
 */
import { spawnSync } from 'node:child_process';
import type { BenchCase, BenchSection } from '../harness.js';
import { labDown, labUp } from '../../src/lab/index.js';

const RUNS = 5;
const GOAL_MS = 2000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function ipBatch(lines: string[]): void {
  const r = spawnSync('ip', ['-force', '-batch', '-'], { input: lines.join('\n') + '\n', encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip -batch failed: ${r.stderr}`);
}

/** iproute2 alone: 10 namespaces, 10 veth pairs between them, then deleted. */
function bareTopologyMs(): number {
  const ns = Array.from({ length: 10 }, (_, i) => `fttlab-b${i}`);
  const t0 = performance.now();
  try {
    ipBatch(ns.map((n) => `netns add ${n}`));
    ipBatch(ns.map((n, i) => `link add name e${i} netns ${n} type veth peer name p${i} netns ${ns[(i + 1) % ns.length]}`));
  } finally {
    ipBatch(ns.map((n) => `netns del ${n}`));
  }
  return performance.now() - t0;
}

export const benchCase: BenchCase = {
  id: 'lab',
  title: 'lab up + down',
  async run(): Promise<BenchSection> {
    if (process.getuid?.() !== 0) throw new Error('the lab benchmark needs root (network namespaces)');
    // Start from no lab (and own the lab session while measuring).
    await labUp();
    await labDown({ keepSession: true });
    const up: number[] = [];
    const down: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const s = await labUp();
      const t1 = performance.now();
      if (!s.up || s.alreadyUp) throw new Error('lab up did not build a fresh lab');
      await labDown({ keepSession: i < RUNS - 1 });
      const t2 = performance.now();
      up.push(t1 - t0);
      down.push(t2 - t1);
      bare.push(bareTopologyMs());
    }
    const total = up.map((u, i) => u + down[i]!);
    const med = median(total);
    const ratio = med / median(bare);
    const r = (x: number) => Math.round(x);
    const markdown = [
      `| runs | lab up (median) | lab down (median) | up + down (median) | iproute2 alone: 10 netns + 10 veth, up + down (median) | ratio |`,
      `|---:|---:|---:|---:|---:|---:|`,
      `| ${RUNS} | ${r(median(up))} ms | ${r(median(down))} ms | ${r(med)} ms | ${r(median(bare))} ms | ${ratio.toFixed(1)}× |`,
      '',
      `Goal: \`lab up\` + \`lab down\` ≤ ${GOAL_MS} ms — ${med <= GOAL_MS ? 'met' : 'NOT met'} (median ${r(med)} ms). ` +
      'The lab does much more than the iproute2 floor: addresses, routes, sysctls, Docker\'s iptables rules, the security ' +
      'group, a CA and certificate (openssl), dnsmasq, two ALB processes and the app, each waited for until it listens.',
    ].join('\n');
    return {
      id: 'lab', title: 'lab up + down', issue: 4, command: 'npm run bench -- lab', markdown,
      data: { runs: RUNS, upMs: up, downMs: down, totalMs: total, bareIprouteMs: bare, medianTotalMs: med, goalMs: GOAL_MS },
      goalMet: med <= GOAL_MS,
    };
  },
};
