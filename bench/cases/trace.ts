/**
 * Issue 17's trace goal (issue 5 set it first): in the lab under `route-blackhole` (hops 1–2
 * answer, then nothing), the time to complete a trace, stars included, for flowtrace,
 * `traceroute` and `mtr -r`, run side by side in the same run from the lab's client node, each
 * with its default settings (UDP probes, 30 hops). flowtrace twice: one address (as traceroute
 * and mtr are given), and the site's name (both ALB addresses, as a user types it). Goal:
 * flowtrace ≤ 1.5 s wall time (process start included) for both. Then the healthy lab, so a
 * faster black hole is not paid for by a slower healthy trace.
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchCase, BenchSection } from '../harness.js';
import { LAB, labDown, labUp, injectFault, healFault, nsName } from '../../src/lab/index.js';
import { selfCliArgv } from '../../src/self.js';

const RUNS = 3;
const GOAL_MS = 1500;
const TARGET = LAB.albA.public;
const NAME = LAB.domain;

interface Timing { tool: string; command: string; runsMs: number[]; medianMs: number; lastHopAnswering: string }
interface Tool { tool: string; argv: string[]; shown?: string; lastHop: (out: string) => string }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeInClient(argv: string[]): { ms: number; stdout: string; code: number } {
  const t0 = performance.now();
  const r = spawnSync('ip', ['netns', 'exec', nsName('client'), ...argv], { encoding: 'utf8', timeout: 120_000 });
  return { ms: performance.now() - t0, stdout: r.stdout ?? '', code: r.status ?? -1 };
}

async function timeTools(tools: Tool[]): Promise<Timing[]> {
  const timings: Timing[] = [];
  for (const t of tools) {
    const runsMs: number[] = [];
    let last = '';
    for (let i = 0; i < RUNS; i++) {
      const r = timeInClient(t.argv);
      runsMs.push(Math.round(r.ms));
      last = r.stdout;
      await sleep(1100); // let the routers' ICMP rate-limit buckets refill between runs
    }
    timings.push({ tool: t.tool, command: `ip netns exec ${nsName('client')} ${t.shown ?? t.argv.join(' ')}`, runsMs, medianMs: median(runsMs), lastHopAnswering: t.lastHop(last) });
  }
  return timings;
}

/** The highest hop a flowtrace report names: "stops after hop N" under a black hole, the destination's hop when reached. */
function flowtraceLastHop(out: string): string {
  const hops = [...out.matchAll(/the path stops after hop (\d+)|reached at hop (\d+)/g)].map((m) => m[1] ?? m[2]);
  return [...new Set(hops)].join(', ') || '?';
}
const flowtrace = (host: string, label: string): Tool => ({ tool: label, argv: [...selfCliArgv(), 'trace', host], shown: `flowtrace trace ${host}`, lastHop: flowtraceLastHop });
const traceroute: Tool = {
  tool: 'traceroute',
  argv: ['traceroute', '-n', TARGET],
  lastHop: (out) => String(Math.max(0, ...out.split('\n').filter((l) => /^\s*\d+\s+\d/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0])))),
};
const mtr: Tool = {
  tool: 'mtr -r',
  argv: ['mtr', '-r', '-n', TARGET],
  lastHop: (out) => String(Math.max(0, ...out.split('\n').filter((l) => /^\s*\d+\.\|--\s+\d/.test(l)).map((l) => parseInt(l.trim(), 10)))),
};

function table(timings: Timing[], base: number): string[] {
  return [
    '| tool | command | runs (ms) | median (ms) | time vs flowtrace (one address) | last answering hop |',
    '|---|---|---|---|---|---|',
    ...timings.map((t) => `| ${t.tool} | \`${t.command.replace(/^ip netns exec \S+ /, '')}\` | ${t.runsMs.join(', ')} | ${t.medianMs} | ${(t.medianMs / base).toFixed(2)}× | ${t.lastHopAnswering} |`),
  ];
}

export const benchCase: BenchCase = {
  id: 'trace',
  title: 'trace: time to complete a trace under route-blackhole (stars included)',
  async run(): Promise<BenchSection> {
    // labUp waits while another process owns the lab session, then makes this one the owner.
    const own = !(await labUp()).alreadyUp;
    let blackhole: Timing[] = [];
    let healthy: Timing[] = [];
    try {
      if (!own) await healFault(); // a lab left up by an earlier run: start from no faults
      healthy = await timeTools([flowtrace(TARGET, 'flowtrace'), flowtrace(NAME, 'flowtrace (name: 2 addresses)'), traceroute]);
      await injectFault('route-blackhole');
      blackhole = await timeTools([flowtrace(TARGET, 'flowtrace'), flowtrace(NAME, 'flowtrace (name: 2 addresses)'), traceroute, mtr]);
    } finally {
      await healFault('route-blackhole').catch(() => {});
      if (own) await labDown();
    }
    const [one, name, tr, m] = blackhole;
    const goalMet = one.medianMs <= GOAL_MS && name.medianMs <= GOAL_MS;
    const markdown = [
      `Lab, fault \`route-blackhole\` (the AWS edge router drops traffic to the ALB: hops 1–2 answer, then nothing), target ${TARGET} (and the name ${NAME}, which resolves to both ALB addresses), from \`${nsName('client')}\`, default settings of each tool (UDP probes, 30 hops; flowtrace 3 rounds, traceroute 3 queries, mtr -r 10 cycles). Wall time per run, process start included, ${RUNS} runs each.`,
      '',
      ...table(blackhole, one.medianMs),
      '',
      `Goal: flowtrace ≤ ${GOAL_MS} ms under the black hole, for one address and for the name — ${goalMet ? 'met' : 'NOT met'} (medians ${one.medianMs} ms and ${name.medianMs} ms; traceroute ${(tr.medianMs / one.medianMs).toFixed(1)}× and mtr -r ${(m.medianMs / one.medianMs).toFixed(1)}× as long as flowtrace on one address).`,
      '',
      'The same tools in the healthy lab (no fault), so the black hole is not made faster at the healthy trace\'s expense:',
      '',
      ...table(healthy, healthy[0].medianMs),
      '',
      'In the healthy lab flowtrace takes its 3 rounds 200 ms apart (per-hop loss over time, as mtr does), where traceroute sends its 3 queries per hop at once; the issue-17 rules change nothing there (the destination answers, every hop is at or below the frontier).',
    ].join('\n');
    return { id: 'trace', title: this.title, issue: 17, command: 'npm run bench -- trace', markdown, data: { target: TARGET, name: NAME, fault: 'route-blackhole', goalMs: GOAL_MS, blackhole, healthy }, goalMet };
  },
};
