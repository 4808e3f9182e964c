/**
 * The instance's side from tcpdump's text: the text read as a capture (capture/text/) by the
 * flow engine — the same analysis `flowtrace analyze` gives of it, and the agent of its own
 * capture — as the ServerReading follow's `serverEvidence` reads.
 */
import { Readable } from 'node:stream';
import { analyzeCapture, type FlowAnalysis } from '../flow/index.js';
import type { ServerReading } from '../follow/index.js';
import type { HostFacts } from '../host/index.js';
import type { RawPart } from './segment.js';

/** Packets logged per connection (the report's ladder), as the agent logs them. */
const PACKET_LOG = 64;

export interface CaptureReading {
  reading: ServerReading;
  notes: string[];
  /** The text had lines in tcpdump's -v/-A/-X form (HTTP heads known: Host, X-Forwarded-For, trace ids). */
  headsShown: boolean;
}

/** Ports the capture's filter names (`port 80 or port 8080`, `tcp port 80`, `portrange 8000-8100`). */
function filterPorts(args: readonly string[]): { filter: string | null; ports: number[] } {
  // The filter is what follows the options (and their values).
  const withValue = new Set(['-i', '-c', '-s', '-w', '-r', '-C', '-G', '-W', '-B', '-E', '-F', '-j', '-T', '-y', '-Z', '-z', '-Q', '--interface', '--snapshot-length', '--time-stamp-type', '--time-stamp-precision']);
  const words: string[] = [];
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!;
    if (a.startsWith('-')) { if (withValue.has(a)) k++; continue; }
    words.push(a);
  }
  const filter = words.join(' ').trim() || null;
  const ports = [...(filter ?? '').matchAll(/\bport (\d+)/g)].map((m) => Number(m[1]));
  return { filter, ports: [...new Set(ports)] };
}

function serverPorts(analysis: FlowAnalysis): number[] {
  const out = new Set<number>();
  for (const c of analysis.connections) {
    out.add(c.server.port);
    if (c.serverInside) out.add(c.serverInside.port);
  }
  return [...out].sort((a, b) => a - b);
}

export async function readCapture(parts: readonly RawPart[], host: HostFacts | null): Promise<CaptureReading> {
  const text = parts.map((p) => p.lines.join('\n')).join('\n') + '\n';
  const notes: string[] = [];
  const { analysis, read } = await analyzeCapture(Readable.from([Buffer.from(text)]), { packetLog: PACKET_LOG, onWarning: (w) => notes.push(w) });
  const cmd = parts.find((p) => p.command)?.command ?? null;
  const { filter, ports } = cmd ? filterPorts(cmd.args) : { filter: null, ports: [] };
  const where = parts.map((p) => `${p.source} lines ${p.from + 1}–${p.to}`).join(', ');
  const t = read?.text;
  return {
    notes,
    headsShown: (t?.payload.text ?? 0) + (t?.payload.exact ?? 0) > 0,
    reading: {
      target: `tcpdump text (${where})`,
      analysis, host,
      ports: ports.length > 0 ? ports : serverPorts(analysis),
      filter: filter !== null ? `tcpdump ${filter}` : null,
      capturedPackets: t?.captured ?? analysis.capture.records,
      kernelDrops: t?.droppedByKernel ?? null,
    },
  };
}
