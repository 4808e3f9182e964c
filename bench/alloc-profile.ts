/**
 * Where `analyze` allocates: runs the flow analysis of a capture in this process under V8's
 * sampling heap profiler — counting objects the garbage collector has already freed too —
 * and prints the bytes allocated per function (functions inlined by the optimiser count
 * for their caller), biggest first, and the total.
 *
 *   npm run build && node dist/bench/alloc-profile.js CAPTURE [--ifmap FILE] [--keep all|exchanges|anomalies] [--top N]
 *
 * The numbers in docs/analyze.md ("Allocation") come from this on the benchmark captures
 * (bench/out/analyze-*.pcap, written by `npm run bench -- analyze`).
 */
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { parseIfmap } from '../src/capture/index.js';
import { analyzeCapture } from '../src/flow/index.js';

interface ProfileNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: ProfileNode[] }

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { ifmap: { type: 'string' }, keep: { type: 'string', default: 'anomalies' }, top: { type: 'string', default: '15' } },
  });
  const file = positionals[0];
  const keep = values.keep as 'all' | 'exchanges' | 'anomalies';
  if (!file || !['all', 'exchanges', 'anomalies'].includes(keep)) {
    process.stderr.write('usage: node dist/bench/alloc-profile.js CAPTURE [--ifmap FILE] [--keep all|exchanges|anomalies] [--top N]\n');
    process.exitCode = 2;
    return;
  }
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 2048, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const { analysis } = await analyzeCapture(file, { keep, ...(values.ifmap ? { ifmap: parseIfmap(readFileSync(values.ifmap, 'utf8')) } : {}) });
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
  session.disconnect();
  const bytes = new Map<string, number>();
  const walk = (n: ProfileNode): void => {
    const where = n.callFrame.url ? `${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}` : '(native)';
    const key = `${n.callFrame.functionName || '(anonymous)'} ${where}`;
    bytes.set(key, (bytes.get(key) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  const total = [...bytes.values()].reduce((a, b) => a + b, 0);
  const rows = [...bytes].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top) || 15);
  for (const [k, v] of rows) process.stdout.write(`${(v / 1e6).toFixed(1).padStart(8)} MB  ${k}\n`);
  process.stdout.write(`${(total / 1e6).toFixed(1).padStart(8)} MB  allocated in all (${analysis.capture.records} records, --keep ${keep})\n`);
}

await main();
