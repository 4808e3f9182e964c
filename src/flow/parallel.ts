/**
 * Reading and analysing on two cores: a worker thread reads the capture file and decodes it
 * (read-worker.ts), this thread analyses what it hands over (batch.ts), in the order read.
 * The analysis is the same sequential engine fed the same fields in the same order as when
 * this thread decodes (packet.ts) — the result is the same, byte for byte
 * (test/flow/parallel.test.ts). Used for regular files big enough to repay starting a worker
 * (about 30 ms), when a core is idle: on a busy machine the kernel shares the CPU between
 * sessions, not threads (autogroup), so a second thread only adds the cost of handing the
 * packets over (measured: docs/analyze.md, "Performance").
 */
import { statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ReadProgress, ReadSummary } from '../capture/index.js';
import { readBatch, reviveError, type BatchBuffers, type BatchSink, type SerializedError } from './batch.js';
import { newFlowPacket } from './packet.js';

/** Files from this size on are read in a worker (smaller ones are done before a worker would have started). */
export const WORKER_MIN_FILE_BYTES = 8 * 1024 * 1024;

/**
 * True when `file` is a regular file worth a reading worker, and a core is idle for it (the
 * load average of the last minute below the cores less one half).
 * FLOWTRACE_READING_WORKER=off (or =on) decides instead (docs/analyze.md, "Performance").
 */
export function worthAReadingWorker(file: string): boolean {
  const env = process.env.FLOWTRACE_READING_WORKER;
  if (env === 'off') return false;
  if (env !== 'on' && loadavg()[0] >= availableParallelism() - 0.5) return false;
  try {
    const st = statSync(file);
    return st.isFile() && (env === 'on' || st.size >= WORKER_MIN_FILE_BYTES);
  } catch {
    return false; // the reading says what is wrong
  }
}

type WorkerMessage =
  | { type: 'batch'; buffers: BatchBuffers; count: number; interfaces: Parameters<BatchSink['addInterface']>[0][]; warnings: string[]; packets: number; bytes: number }
  | { type: 'done'; summary: ReadSummary }
  | { type: 'error'; error: SerializedError };

function startReadingWorker(file: string): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // From the sources (tests): the worker needs tsx's loader before it imports TypeScript.
    const tsx = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./read-worker.ts', here).href;
    return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`, { eval: true, workerData: { file } });
  }
  return new Worker(new URL('./read-worker.js', here), { workerData: { file } });
}

export interface WorkerReadOptions {
  signal?: AbortSignal;
  progress?: ReadProgress;
  onWarning?: (message: string) => void;
}

/**
 * Reads `file` in a worker and hands every interface block and packet to `sink`, in order.
 * Resolves with the read summary; rejects as readCapture does (CaptureFormatError,
 * InputError), or with the signal's reason at once when it aborts (the worker is ended).
 */
export function readFileInWorker(file: string, sink: BatchSink, options: WorkerReadOptions = {}): Promise<ReadSummary> {
  const { signal, progress, onWarning } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return; }
    const worker = startReadingWorker(file);
    const packet = newFlowPacket();
    let settled = false;
    const settle = (then: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      then();
    };
    const onAbort = (): void => settle(() => reject(signal!.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    // One message per turn of the event loop: a port hands over every message it holds at
    // once, and a stop (a signal, an abort) must not wait behind them.
    const queue: WorkerMessage[] = [];
    let scheduled = false;
    const next = (): void => {
      scheduled = false;
      const m = queue.shift();
      if (settled || m === undefined) return;
      if (queue.length > 0) { scheduled = true; setImmediate(next); }
      if (m.type === 'batch') {
        try {
          readBatch(m.buffers, m.count, m.interfaces, packet, sink);
        } catch (err) {
          settle(() => reject(err));
          return;
        }
        for (const w of m.warnings) onWarning?.(w);
        if (progress !== undefined) { progress.packets = m.packets; progress.bytes = m.bytes; }
        worker.postMessage({ type: 'free', buffers: m.buffers }, [m.buffers.records, m.buffers.bytes]);
      } else if (m.type === 'done') settle(() => resolve(m.summary));
      else settle(() => reject(reviveError(m.error)));
    };
    worker.on('message', (m: WorkerMessage) => {
      queue.push(m);
      if (!scheduled) { scheduled = true; setImmediate(next); }
    });
    worker.on('error', (err) => settle(() => reject(err)));
    worker.on('exit', (code) => settle(() => reject(new Error(`the reading worker ended (exit ${code}) before the end of ${file}`))));
  });
}
