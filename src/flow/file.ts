/**
 * Analysing a whole capture (file, `-`, or a stream): the capture reader, the decoder and
 * the flow analyzer, wired together. Used by `flowtrace analyze` and the agent.
 */
import { readCapture, type ReadProgress, type ReadSummary } from '../capture/index.js';
import { createDecoder } from '../decode/index.js';
import { createFlowAnalyzer, type FlowOptions } from './analyzer.js';
import type { FlowAnalysis } from './types.js';

export interface AnalyzeCaptureOptions extends FlowOptions {
  signal?: AbortSignal;
  /** Kept up to date while reading (how far a stopped analysis got). */
  progress?: ReadProgress;
  /** Non-fatal oddities of the capture (a truncated tail…). */
  onWarning?: (message: string) => void;
}

export async function analyzeCapture(input: string | NodeJS.ReadableStream, options: AnalyzeCaptureOptions = {}): Promise<{ analysis: FlowAnalysis; read: ReadSummary }> {
  const analyzer = createFlowAnalyzer(options);
  // HTTP heads are found by the flow layer on the reassembled stream, not per segment.
  const decoder = createDecoder({ http: false });
  const read = await readCapture(input, {
    onInterface: (iface) => analyzer.addInterface(iface),
    // Decoded in place in the reader's buffer: no view object per packet.
    onPacket: (record) => analyzer.addPacket(record, record.buffer !== undefined
      ? decoder.decodeAt(record.linkType, record.buffer, record.offset!, record.offset! + record.capturedLength)
      : decoder.decode(record.linkType, record.data)),
    onWarning: options.onWarning,
  }, { signal: options.signal, progress: options.progress });
  return { analysis: analyzer.finish(), read };
}
