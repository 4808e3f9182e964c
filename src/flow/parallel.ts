/**
 * Reading and analysing on two cores: a worker thread reads the capture file and decodes it
 * (read-worker.ts), this thread analyses what it hands over (batch.ts), in the order read.
 * The analysis is the same sequential engine fed the same fields in the same order as when
 * this thread decodes (packet.ts) — the result is the same, byte for byte
 * (test/flow/parallel.test.ts). Only on request (FLOWTRACE_READING_WORKER=on): measured, the
 * hand-over costs more than the decoding it moves off this thread, on a quiet machine too
 * (1 M packets: 1.28 s with the worker, 1.09 s without — docs/analyze.md, "Performance").
 */
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { readCapture, type ReadProgress, type ReadSummary } from '../capture/index.js';
import { readBatch, reviveError, type BatchBuffers, type BatchSink, type SerializedError } from './batch.js';
import { FlowPacketReader, newFlowPacket } from './packet.js';

/**
 * True when FLOWTRACE_READING_WORKER=on asks for a reading worker and `file` is a regular
 * file (docs/analyze.md, "Performance": one thread is faster, measured).
 */
export function worthAReadingWorker(file: string): boolean {
  if (process.env.FLOWTRACE_READING_WORKER !== 'on') return false;
  try {
    return statSync(file).isFile();
  } catch {
    return false; // the reading says what is wrong
  }
}

type WorkerMessage =
  | { type: 'batch'; buffers: BatchBuffers; count: number; first: number; interfaces: Parameters<BatchSink['addInterface']>[0][]; warnings: WorkerWarning[]; packets: number; bytes: number }
  | { type: 'done'; summary: ReadSummary }
  | { type: 'error'; error: SerializedError };

/** A warning of the worker's reading, with the number of records (packets and interface blocks) it had delivered before it. */
export interface WorkerWarning { message: string; at: number }

/** Thrown from this thread's own reading callbacks to hand the rest over to the worker. */
const HANDOVER = { handover: true };

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
  /**
   * Records (packets and interface blocks) this thread reads and decodes itself before it
   * takes the worker's. Default: as many as it gets through while the worker starts (until the
   * worker's first batch is there). Tests set it to check every place of the hand-over.
   */
  handoverAt?: number;
}

/**
 * Reads `file` in a worker and hands every interface block and packet to `sink`, in order.
 * Resolves with the read summary; rejects as readCapture does (CaptureFormatError,
 * InputError), or with the signal's reason at once when it aborts (the worker is ended).
 *
 * A worker takes about as long to start (a new isolate loading the capture and decode
 * modules: 50–100 ms) as this thread takes to analyse 100 k packets, so this thread does not
 * wait for it: it reads the start of the file itself and, once the worker's first batch is
 * there, stops at a record boundary K and takes the worker's records from K on (the worker
 * reads the whole file — it is told K so as not to decode what is skipped — and its read
 * summary is the file's). The records reach `sink` in the same order either way.
 */
export function readFileInWorker(file: string, sink: BatchSink, options: WorkerReadOptions = {}): Promise<ReadSummary> {
  const { signal, progress, onWarning, handoverAt } = options;
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
    /** Records this thread read itself; the worker's are taken from there on once `handedOver`. */
    let own = 0;
    let handedOver = false;
    let workerReady = false;
    // One message per turn of the event loop: a port hands over every message it holds at
    // once, and a stop (a signal, an abort) must not wait behind them.
    const queue: WorkerMessage[] = [];
    let scheduled = false;
    const schedule = (): void => {
      if (!scheduled && handedOver && queue.length > 0) { scheduled = true; setImmediate(next); }
    };
    const next = (): void => {
      scheduled = false;
      const m = queue.shift();
      if (settled || m === undefined) return;
      schedule();
      if (m.type === 'batch') {
        try {
          // Records before the hand-over were read here.
          if (m.first + m.count > own) readBatch(m.buffers, m.count, m.interfaces, packet, sink, Math.max(0, own - m.first));
        } catch (err) {
          settle(() => reject(err));
          return;
        }
        for (const w of m.warnings) if (w.at > own) onWarning?.(w.message);
        if (progress !== undefined && m.first + m.count > own) { progress.packets = m.packets; progress.bytes = m.bytes; }
        worker.postMessage({ type: 'free', buffers: m.buffers }, [m.buffers.records, m.buffers.bytes]);
      } else if (m.type === 'done') settle(() => resolve(m.summary));
      else settle(() => reject(reviveError(m.error)));
    };
    /** The worker's last message (done or error) came: it may end before this thread takes its batches. */
    let workerFinished = false;
    worker.on('message', (m: WorkerMessage) => {
      queue.push(m);
      workerReady = true;
      if (m.type !== 'batch') workerFinished = true;
      schedule();
    });
    worker.on('error', (err) => settle(() => reject(err)));
    worker.on('exit', (code) => {
      if (!workerFinished) settle(() => reject(new Error(`the reading worker ended (exit ${code}) before the end of ${file}`)));
    });

    // This thread's own reading of the start, while the worker starts.
    const reader = new FlowPacketReader();
    const handOverNow = (): boolean => (handoverAt !== undefined ? own >= handoverAt : workerReady);
    readCapture(file, {
      onInterface: (iface) => {
        if (handOverNow()) throw HANDOVER;
        own++;
        sink.addInterface(iface);
      },
      onPacket: (record) => {
        if (handOverNow()) throw HANDOVER;
        own++;
        sink.addFlowPacket(reader.read(record));
      },
      onWarning,
    }, { signal, progress }).then(
      // The whole file read here before the worker was needed.
      (summary) => settle(() => resolve(summary)),
      (err: unknown) => {
        if (err !== HANDOVER) { settle(() => reject(err)); return; }
        handedOver = true;
        worker.postMessage({ type: 'from', record: own });
        schedule();
      },
    );
  });
}
