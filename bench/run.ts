/**
 * `npm run bench [-- ID…]` (or `-- --render-only`: just rewrite BENCHMARKS.md): loads every bench/cases/*.ts (compiled to dist/bench/cases/*.js),
 * runs all of them or those named, writes each section to bench/out/<id>.json and rewrites
 * BENCHMARKS.md from every bench/out/*.json — sections of cases not run this time are kept
 * as they were (from bench/out, or else verbatim from the committed BENCHMARKS.md). A failing case is reported and makes the exit code 1; the others still run.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchCase, BenchSection } from './harness.js';
import { PACKAGE_ROOT } from '../src/self.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const runningFromSource = import.meta.url.endsWith('.ts');
export const BENCH_OUT_DIR = path.join(PACKAGE_ROOT, 'bench', 'out');
const BENCHMARKS_MD = path.join(PACKAGE_ROOT, 'BENCHMARKS.md');

/** What bench/out/<id>.json holds: the section plus when and where it was measured. */
export interface StoredSection extends BenchSection {
  measuredAt: string;
  machine: MachineInfo;
  error?: string;
}

interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  loadAverage1m: number;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

async function loadCases(): Promise<BenchCase[]> {
  const dir = path.join(here, 'cases');
  const ext = runningFromSource ? '.ts' : '.js';
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts')).sort() : [];
  const cases: BenchCase[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { benchCase?: BenchCase };
    if (mod.benchCase && typeof mod.benchCase.run === 'function') cases.push(mod.benchCase);
    else process.stderr.write(`bench: ${f} exports no benchCase; skipped\n`);
  }
  return cases;
}

function readStored(): StoredSection[] {
  if (!existsSync(BENCH_OUT_DIR)) return [];
  const out: StoredSection[] = [];
  for (const f of readdirSync(BENCH_OUT_DIR).filter((n) => n.endsWith('.json')).sort()) {
    try {
      const s = JSON.parse(readFileSync(path.join(BENCH_OUT_DIR, f), 'utf8')) as StoredSection;
      if (typeof s.id === 'string' && typeof s.markdown === 'string') out.push(s);
    } catch {
      // Not a section (e.g. a generator's metadata file): ignored.
    }
  }
  return out;
}

/** A section kept verbatim from the current BENCHMARKS.md (bench/out is not committed). */
export interface KeptSection {
  id: string;
  tableRow: string;
  body: string;
}

/**
 * The sections of an existing BENCHMARKS.md, by id: on a fresh clone bench/out is empty,
 * and running one case must not drop the others' committed results.
 */
export function parseBenchmarksMd(text: string): KeptSection[] {
  const kept: KeptSection[] = [];
  const parts = text.split(/^(?=<a id="[^"]+"><\/a>$)/m);
  for (const part of parts) {
    const m = /^<a id="([^"]+)"><\/a>$/m.exec(part);
    if (!m || part.indexOf(m[0]) !== 0) continue;
    const id = m[1];
    const row = text.split('\n').find((l) => l.startsWith('| [') && l.includes(`](#${id})`));
    kept.push({ id, tableRow: row ?? `| [${id}](#${id}) | | | | |`, body: part.trim() });
  }
  return kept;
}

function combine(stored: StoredSection[], known: Set<string>): string {
  const fresh = stored.filter((s) => known.has(s.id));
  let previous = '';
  try { previous = readFileSync(BENCHMARKS_MD, 'utf8'); } catch { /* none yet */ }
  const kept = parseBenchmarksMd(previous).filter((k) => known.has(k.id) && !fresh.some((s) => s.id === k.id));
  return renderBenchmarksMd(fresh, kept);
}

export function renderBenchmarksMd(sections: StoredSection[], kept: KeptSection[] = []): string {
  const order = [...sections.map((s) => s.id), ...kept.map((k) => k.id)].sort();
  const lines = [
    '# Benchmarks',
    '',
    'Measured by `npm run bench` (all cases) or `npm run bench -- ID…` (some), which builds the',
    'project, runs each case in bench/cases/, keeps the raw numbers in bench/out/<id>.json and',
    'rewrites this file. flowtrace is always compared with the real peer tool in the same run,',
    'on the same machine and input; the ratios matter more than the absolute numbers. Sections',
    'not re-run keep their last results (each says when and where it was measured).',
    '',
    '| section | issue | goal met | measured | reproduce |',
    '|---|---|---|---|---|',
    ...order.map((id) => {
      const s = sections.find((x) => x.id === id);
      if (!s) return kept.find((k) => k.id === id)!.tableRow;
      return `| [${s.title}](#${s.id}) | #${s.issue} | ${s.error ? 'failed to run' : s.goalMet === null ? '—' : s.goalMet ? 'yes' : 'no'} | ${s.measuredAt.slice(0, 16).replace('T', ' ')} UTC | \`${s.command}\` |`;
    }),
    '',
  ];
  for (const id of order) {
    const s = sections.find((x) => x.id === id);
    if (!s) {
      lines.push(kept.find((k) => k.id === id)!.body, '');
      continue;
    }
    const m = s.machine;
    lines.push(
      `<a id="${s.id}"></a>`,
      `## ${s.title}`,
      '',
      `Issue #${s.issue} · \`${s.command}\` · ${s.measuredAt.slice(0, 16).replace('T', ' ')} UTC · ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.kernel}, load ${m.loadAverage1m} at start`,
      '',
      s.error ? `**The case failed to run:** ${s.error}\n` : '',
      s.markdown.trim(),
      '',
    );
  }
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

async function main(argv: string[]): Promise<number> {
  const cases = await loadCases();
  const known = new Set(cases.map((c) => c.id));
  if (argv.includes('--render-only')) {
    // Rewrites BENCHMARKS.md from bench/out without measuring anything.
    writeFileSync(BENCHMARKS_MD, combine(readStored(), known));
    process.stderr.write('bench: BENCHMARKS.md rewritten from bench/out\n');
    return 0;
  }
  const wanted = argv.filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !cases.some((c) => c.id === w));
  if (unknown.length > 0) {
    process.stderr.write(`error[USAGE]: unknown benchmark ${unknown.map((u) => `'${u}'`).join(', ')}\nhint: the benchmarks are: ${cases.map((c) => c.id).join(', ')}\n`);
    return 2;
  }
  const toRun = wanted.length > 0 ? cases.filter((c) => wanted.includes(c.id)) : cases;
  mkdirSync(BENCH_OUT_DIR, { recursive: true });
  let failures = 0;
  for (const c of toRun) {
    process.stderr.write(`bench: ${c.id}: ${c.title}\n`);
    const machine = machineInfo();
    const measuredAt = new Date().toISOString();
    let stored: StoredSection;
    try {
      const section = await c.run();
      stored = { ...section, measuredAt, machine };
      process.stdout.write(`\n## ${section.title}\n\n${section.markdown.trim()}\n\n`);
    } catch (err) {
      failures++;
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`bench: ${c.id} failed: ${message}\n`);
      // Keep the last good numbers, marked as such, rather than losing them.
      const previous = readStored().find((s) => s.id === c.id && !s.error);
      const error = `${message} (run of ${measuredAt.slice(0, 16).replace('T', ' ')} UTC${previous ? '; the results below are from the last successful run' : ''})`;
      stored = previous
        ? { ...previous, error }
        : { id: c.id, title: c.title, issue: 0, command: `npm run bench -- ${c.id}`, markdown: '', data: null, goalMet: null, measuredAt, machine, error };
    }
    writeFileSync(path.join(BENCH_OUT_DIR, `${c.id}.json`), `${JSON.stringify(stored, null, 2)}\n`);
  }
  // Sections of cases that no longer exist are dropped; the others come from bench/out.
  writeFileSync(BENCHMARKS_MD, combine(readStored(), known));
  process.stderr.write(`bench: BENCHMARKS.md rewritten (${toRun.length} case(s) run${failures ? `, ${failures} failed` : ''})\n`);
  return failures > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
