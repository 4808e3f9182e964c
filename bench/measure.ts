/**
 * One process measured: wall time around it with a monotonic clock (start-up included) and
 * its peak RSS from `/usr/bin/time -f %M`; output to /dev/null. Cut (SIGKILL to its process
 * group) after `timeoutMs`.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Run { wallSeconds: number; peakRssKiB: number | null; exitCode: number | null; timedOut: boolean }

/** `stdoutFile`: where the process's output goes (else /dev/null). */
export function measure(argv: string[], timeoutMs: number, stdoutFile?: string): Promise<Run> {
  return new Promise((resolve) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ft-bench-'));
    const timeFile = path.join(dir, 'time');
    const out = stdoutFile !== undefined ? openSync(stdoutFile, 'w') : 'ignore';
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, ...argv], { stdio: ['ignore', out, 'ignore'], detached: true });
    if (typeof out === 'number') closeSync(out);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallSeconds = (performance.now() - t0) / 1000;
      let peakRssKiB: number | null = null;
      try {
        const last = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop());
        peakRssKiB = Number.isFinite(last) ? last : null;
      } catch { /* killed */ }
      rmSync(dir, { recursive: true, force: true });
      resolve({ wallSeconds, peakRssKiB, exitCode: code, timedOut });
    });
  });
}

/** Keeps the best (shortest) run; the peak RSS is the highest seen. */
export function best(kept: Run | undefined, r: Run): Run {
  if (kept === undefined) return r;
  const peak = Math.max(kept.peakRssKiB ?? 0, r.peakRssKiB ?? 0) || null;
  const winner = !r.timedOut && r.wallSeconds < kept.wallSeconds ? r : kept;
  return { ...winner, peakRssKiB: peak };
}

export const fmtSeconds = (s: number): string => s.toFixed(s < 10 ? 2 : 1);
export const fmtMiB = (k: number | null): string => (k === null ? '?' : `${(k / 1024).toFixed(0)} MiB`);
