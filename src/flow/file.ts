/**
 * Analysing a whole capture (file, `-`, or a stream): the capture reader, the decoder and
 * the flow analyzer, wired together. Used by `flowtrace analyze` and the agent.
 */
import { readCapture, type ReadProgress, type ReadSummary } from '../capture/index.js';
import { CaptureFormatError } from '../errors.js';
import { createBatchAnalyzer, type FlowOptions } from './analyzer.js';
import { FlowPacketReader } from './packet.js';
import { readFileInWorker, worthAReadingWorker } from './parallel.js';
import type { FlowAnalysis } from './types.js';

export interface AnalyzeCaptureOptions extends FlowOptions {
  signal?: AbortSignal;
  /** Kept up to date while reading (how far a stopped analysis got). */
  progress?: ReadProgress;
  /** Non-fatal oddities of the capture (a truncated tail…). */
  onWarning?: (message: string) => void;
  /**
   * A malformed record in the middle (CaptureFormatError) ends the reading but not the
   * analysis: the packets before it are analysed and returned with `formatError` set and
   * `read` null. Without it, the error is thrown.
   */
  partialOnFormatError?: boolean;
  /**
   * Read and decode in a worker thread while this one analyses (parallel.ts): 'auto' (the
   * default) only when FLOWTRACE_READING_WORKER=on — measured, one thread is faster. The
   * result is the same either way.
   */
  readInWorker?: boolean | 'auto';
}

export interface CaptureAnalysis {
  analysis: FlowAnalysis;
  /** Null when the reading ended at a malformed record (`formatError`). */
  read: ReadSummary | null;
  formatError: CaptureFormatError | null;
}

export async function analyzeCapture(input: string | NodeJS.ReadableStream, options: AnalyzeCaptureOptions = {}): Promise<CaptureAnalysis> {
  const analyzer = createBatchAnalyzer(options);
  const inWorker = typeof input === 'string' && input !== '-' && options.readInWorker !== false
    && (options.readInWorker === true || worthAReadingWorker(input));
  // What flow reads of each packet (HTTP heads are found by flow on the reassembled stream).
  const reader = new FlowPacketReader();
  let read: ReadSummary;
  try {
    read = inWorker ? await readFileInWorker(input, analyzer, { signal: options.signal, progress: options.progress, onWarning: options.onWarning }) : await readCapture(input, {
      onInterface: (iface) => analyzer.addInterface(iface),
      // Decoded in place in the reader's buffer: no view object per packet.
      onPacket: (record) => analyzer.addFlowPacket(reader.read(record)),
      onWarning: options.onWarning,
    }, { signal: options.signal, progress: options.progress });
  } catch (err) {
    if (options.partialOnFormatError !== true || !(err instanceof CaptureFormatError) || options.signal?.aborted === true) throw err;
    return { analysis: analyzer.finish(), read: null, formatError: err };
  }
  return { analysis: analyzer.finish(), read, formatError: null };
}
