/**
 * Issue 5's trace goal: in the lab under `route-blackhole` (hops 1–2 answer, then nothing),
 * the time to complete a trace, stars included, for flowtrace, `traceroute` and `mtr -r`,
 * run side by side in the same run from the lab's client node, each with its default
 * settings (UDP probes, 30 hops). Goal: flowtrace ≤ 1.5 s wall time (process start included).
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchCase, BenchSection } from '../harness.js';
import { LAB, labDown, labUp, injectFault, healFault, nsName } from '../../src/lab/index.js';
import { selfCliArgv } from '../../src/self.js';

const RUNS = 3;
const GOAL_MS = 1500;
const TARGET = LAB.albA.public;

interface Timing { tool: string; command: string; runsMs: number[]; medianMs: number; lastHopAnswering: string }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeInClient(argv: string[]): { ms: number; stdout: string; code: number } {
  const t0 = performance.now();
  const r = spawnSync('ip', ['netns', 'exec', nsName('client'), ...argv], { encoding: 'utf8', timeout: 120_000 });
  return { ms: performance.now() - t0, stdout: r.stdout ?? '', code: r.status ?? -1 };
}

export const benchCase: BenchCase = {
  id: 'trace',
  title: 'trace: time to complete a trace under route-blackhole (stars included)',
  async run(): Promise<BenchSection> {
    // labUp waits while another process owns the lab session, then makes this one the owner.
    const own = !(await labUp()).alreadyUp;
    const timings: Timing[] = [];
    try {
      if (!own) await healFault(); // a lab left up by an earlier run: start from no faults
      await injectFault('route-blackhole');
      const tools: Array<{ tool: string; argv: string[]; shown?: string; lastHop: (out: string) => string }> = [
        {
          tool: 'flowtrace',
          argv: [...selfCliArgv(), 'trace', TARGET],
          shown: `flowtrace trace ${TARGET}`,
          lastHop: (out) => /the path stops after hop (\d+)/.exec(out)?.[1] ?? '?',
        },
        {
          tool: 'traceroute',
          argv: ['traceroute', '-n', TARGET],
          lastHop: (out) => String(Math.max(0, ...out.split('\n').filter((l) => /^\s*\d+\s+\d/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0])))),
        },
        {
          tool: 'mtr -r',
          argv: ['mtr', '-r', '-n', TARGET],
          lastHop: (out) => String(Math.max(0, ...out.split('\n').filter((l) => /^\s*\d+\.\|--\s+\d/.test(l)).map((l) => parseInt(l.trim(), 10)))),
        },
      ];
      for (const t of tools) {
        const runsMs: number[] = [];
        let last = '';
        for (let i = 0; i < RUNS; i++) {
          const r = timeInClient(t.argv);
          runsMs.push(Math.round(r.ms));
          last = r.stdout;
          await sleep(1100); // let the routers' ICMP rate-limit buckets refill between runs
        }
        timings.push({ tool: t.tool, command: `ip netns exec ft-client ${t.shown ?? t.argv.join(' ')}`, runsMs, medianMs: median(runsMs), lastHopAnswering: t.lastHop(last) });
      }
    } finally {
      await healFault('route-blackhole').catch(() => {});
      if (own) await labDown();
    }
    const ft = timings[0].medianMs;
    const goalMet = ft <= GOAL_MS;
    const rows = timings.map((t) => `| ${t.tool} | ${t.runsMs.join(', ')} | ${t.medianMs} | ${(t.medianMs / ft).toFixed(2)}× | ${t.lastHopAnswering} |`);
    const markdown = [
      `Lab, fault \`route-blackhole\` (the AWS edge router drops traffic to the ALB: hops 1–2 answer, then nothing), target ${TARGET}, from \`ft-client\`, default settings of each tool (UDP probes, 30 hops; flowtrace 3 rounds, traceroute 3 queries, mtr -r 10 cycles). Wall time per run, process start included, ${RUNS} runs each.`,
      '',
      '| tool | runs (ms) | median (ms) | time vs flowtrace | last answering hop |',
      '|---|---|---|---|---|',
      ...rows,
      '',
      `Goal: flowtrace ≤ ${GOAL_MS} ms — ${goalMet ? 'met' : 'NOT met'} (median ${ft} ms; traceroute ${(timings[1].medianMs / ft).toFixed(1)}× and mtr -r ${(timings[2].medianMs / ft).toFixed(1)}× as long).`,
    ].join('\n');
    return { id: 'trace', title: this.title, issue: 5, command: 'npm run bench -- trace', markdown, data: { target: TARGET, fault: 'route-blackhole', goalMs: GOAL_MS, timings }, goalMet };
  },
};
