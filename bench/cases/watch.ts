/**
 * Issue 19: watch's memory stays flat over 1,000 runs. bench/watch-memory.ts runs the real
 * watch() — a real follow per run over the loopback, the tally, the kept results, an OTLP
 * export per run and the Prometheus registry — and samples the heap and RSS after GC at fixed
 * run counts. Flat: from run 100 to run 1,000 the heap grows by less than GOAL_GROWTH_MIB
 * (what grows with the runs would grow ten times over that stretch). No peer tool keeps such
 * state: the comparison is watch with itself, 100 runs against 1,000.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { BenchCase, BenchSection } from '../harness.js';
import { PACKAGE_ROOT } from '../../src/self.js';

const RUNS = 1000;
const GOAL_GROWTH_MIB = 5;

interface Sample { runs: number; heapMiB: number; rssMiB: number }

export const benchCase: BenchCase = {
  id: 'watch',
  title: 'watch: memory over 1,000 runs (heap and RSS after GC)',
  async run(): Promise<BenchSection> {
    const script = path.join(PACKAGE_ROOT, 'dist', 'bench', 'watch-memory.js');
    const r = spawnSync(process.execPath, ['--expose-gc', script, String(RUNS)], { encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`watch-memory: ${r.stderr || `exit ${r.status}`}`);
    const { samples, ms } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { samples: Sample[]; ms: number };
    const from = samples.find((s) => s.runs === 100)!;
    const to = samples.find((s) => s.runs === RUNS)!;
    const growth = Number((to.heapMiB - from.heapMiB).toFixed(1));
    const goalMet = growth < GOAL_GROWTH_MIB;
    const markdown = [
      `\`node --expose-gc dist/bench/watch-memory.js ${RUNS}\`: the real \`watch()\` for ${RUNS} runs, every 1 ms (the walk itself sets the pace: ${(ms / RUNS).toFixed(1)} ms per run), each run a real follow of http://127.0.0.1:PORT/ (a TCP trace and the request through the loopback to a node:http server), with --keep's default, an OTLP export per run (the SDK's OTLP/HTTP exporter to a local collector) and the Prometheus registry observed every run and scraped every 100. Heap used and RSS after a full GC.`,
      '',
      '| runs | heap used (MiB) | RSS (MiB) |',
      '|---|---|---|',
      ...samples.map((s) => `| ${s.runs} | ${s.heapMiB} | ${s.rssMiB} |`),
      '',
      `Goal: flat — the heap grows by less than ${GOAL_GROWTH_MIB} MiB from run 100 to run ${RUNS}: ${growth} MiB — ${goalMet ? 'met' : 'NOT met'}.`,
    ].join('\n');
    return { id: 'watch', title: this.title, issue: 19, command: 'npm run bench -- watch', markdown, data: { runs: RUNS, samples, ms, growthMiB: growth }, goalMet };
  },
};
