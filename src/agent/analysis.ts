/**
 * What a live capture means: its packets decoded and fed to flow analysis with the interface
 * and direction each copy was seen at, one tcpdump-like line per packet, the exchange with a
 * given trace id, and the per-packet hop notes that go into pcapng comments.
 * Shared by `flowtrace agent` and `flowtrace capture`.
 */
import type { PacketRecord } from '../capture/types.js';
import type { LivePacket } from '../capture/live/index.js';
import { createDecoder, PacketPrinter, type DecodedPacket, type PrintableRecord } from '../decode/index.js';
import { createFlowAnalyzer, findExchange, type FlowAnalysis, type HttpExchange, type Hop } from '../flow/index.js';

export interface LiveAnalysis {
  analysis: FlowAnalysis;
  /** One line per packet, in the order of `packets` (`ens5 In  IP 10.0.0.1.5000 > …`). */
  lines: string[];
  /** The first exchange carrying this X-Amzn-Trace-Id (Root, Self, or the whole value). */
  findByTraceId(traceId: string): HttpExchange | null;
}

const DIR_LABEL: Record<string, string> = { in: 'In', out: 'Out', broadcast: 'B', multicast: 'M', otherhost: 'P', unknown: '?' };

/** `2026-11-23T19:42:47.123456Z` from seconds + nanoseconds. */
export function isoTime(tsSec: number, tsNsec: number): string {
  const base = new Date(tsSec * 1000).toISOString().slice(0, 19);
  return `${base}.${String(Math.floor(tsNsec / 1000)).padStart(6, '0')}Z`;
}

/** The `ens5  In  ` prefix tcpdump -i any prints before a packet. */
export function wherePrefix(p: Pick<LivePacket, 'interfaceName' | 'ifindex' | 'direction'>): string {
  return `${(p.interfaceName ?? (p.ifindex >= 0 ? `ifindex ${p.ifindex}` : '?')).padEnd(8)} ${(DIR_LABEL[p.direction] ?? '?').padEnd(3)} `;
}

/**
 * A printer of the lines `flowtrace capture` prints, like `tcpdump -i any -nn` (time,
 * interface, direction, then the packet; relative TCP sequence numbers per conversation,
 * so it keeps state: one printer per capture).
 */
export function createLivePrinter(ifmap: Map<number, string>): (record: PrintableRecord, decoded: DecodedPacket) => string {
  const printer = new PacketPrinter({ interfaceName: (i) => ifmap.get(i) ?? null });
  return (record, decoded) => printer.format(record, decoded);
}

/** Decodes and analyses kept live packets (a few seconds of traffic: everything in memory). */
export function analyzeLivePackets(packets: readonly LivePacket[], ifmap: Map<number, string> = new Map(), options: { lines?: boolean; packetLog?: number } = {}): LiveAnalysis {
  const wantLines = options.lines !== false;
  const decoder = createDecoder();
  const analyzer = createFlowAnalyzer({ ifmap, stitch: true, packetLog: options.packetLog ?? 0 });
  const record: PacketRecord = {
    index: 0, interfaceId: 0, linkType: 0, tsSec: 0, tsNsec: 0, capturedLength: 0, originalLength: 0,
    data: new Uint8Array(0), comment: null, epbDirection: 0,
  };
  const lines: string[] = [];
  const print = wantLines ? createLivePrinter(ifmap) : null;
  for (const p of packets) {
    record.index = p.index;
    record.linkType = p.linkType;
    record.tsSec = p.tsSec;
    record.tsNsec = p.tsNsec;
    record.capturedLength = p.data.length;
    record.originalLength = p.originalLength;
    record.data = p.data;
    const decoded = decoder.decode(p.linkType, p.data);
    analyzer.addPacket(record, decoded, { interface: p.interfaceName, direction: p.direction });
    if (print) lines.push(print(record, decoded));
  }
  const analysis = analyzer.finish();
  return {
    analysis,
    lines,
    findByTraceId(traceId: string): HttpExchange | null {
      return findExchange(analysis, { traceId })[0] ?? null;
    },
  };
}

function hopChain(hops: readonly Hop[]): string {
  return hops.map((h) => `${h.interface} ${DIR_LABEL[h.direction] ?? h.direction}`).join(' → ');
}

function hopOffsets(hops: readonly Hop[]): string {
  return hops.map((h) => `+${h.offsetUs} µs`).join(', ');
}

/** The in-host path of one exchange, as lines for people. */
export function exchangePath(ex: HttpExchange): string[] {
  const out: string[] = [];
  const req = ex.request;
  const res = ex.response;
  const id = req?.traceId?.root ?? req?.traceId?.raw ?? null;
  out.push(`${ex.client.address}:${ex.client.port} → ${ex.server.address}:${ex.server.port}${id ? `  trace ${id}` : ''}`);
  if (req) out.push(`request  ${req.method} ${req.target}: ${hopChain(req.hops)}${req.hops.length > 1 ? ` (${hopOffsets(req.hops)})` : ''}`);
  if (res) out.push(`response ${res.status} ${res.reason}: ${hopChain(res.hops)}${res.hops.length > 1 ? ` (${hopOffsets(res.hops)})` : ''}`);
  else out.push(`response none seen (${ex.status})`);
  for (const t of ex.timings) out.push(`time to first byte at ${t.interface}: ${t.ms.toFixed(3)} ms`);
  return out;
}

/** One line per exchange of an analysis. */
export function exchangeLines(analysis: FlowAnalysis): string[] {
  return analysis.exchanges.map((ex) => {
    const req = ex.request;
    const res = ex.response;
    const id = req?.traceId?.root ?? null;
    const what = req ? `${req.method} ${req.target}` : '(request not seen)';
    const answer = res ? `${res.status}` : ex.status;
    const ttfb = ex.timeToFirstByteMs === null ? '' : ` in ${ex.timeToFirstByteMs.toFixed(3)} ms`;
    const path = req && req.hops.length > 0 ? `  [${hopChain(req.hops)}]` : '';
    return `${ex.client.address}:${ex.client.port} → ${ex.server.address}:${ex.server.port} ${what} → ${answer}${ttfb}${id ? ` trace ${id}` : ''}${path}`;
  });
}

function tsMicros(tsSec: number, tsNsec: number): number { return tsSec * 1e6 + Math.floor(tsNsec / 1000); }

/**
 * Per-packet notes for pcapng comments: the packets that carried a request or response head
 * get `flowtrace: trace Root=… request hop 2/3 (ens5 In → docker0 Out → veth… Out)`;
 * packets shown by an anomaly get its message.
 */
export function packetHopComments(packets: readonly LivePacket[], analysis: FlowAnalysis): Map<number, string> {
  const notes = new Map<number, string[]>();
  const byWhere = new Map<string, LivePacket[]>();
  for (const p of packets) {
    const key = `${p.interfaceName}|${p.direction}`;
    let list = byWhere.get(key);
    if (!list) { list = []; byWhere.set(key, list); }
    list.push(p);
  }
  const find = (h: Hop): LivePacket | null => {
    const list = byWhere.get(`${h.interface}|${h.direction}`);
    if (!list) return null;
    const us = Math.round(h.ts * 1e6);
    return list.find((p) => Math.abs(tsMicros(p.tsSec, p.tsNsec) - us) <= 1) ?? null;
  };
  const add = (p: LivePacket | null, text: string): void => {
    if (!p) return;
    const list = notes.get(p.index) ?? [];
    if (!list.includes(text)) list.push(text);
    notes.set(p.index, list);
  };
  for (const ex of analysis.exchanges) {
    const id = ex.request?.traceId?.root ?? null;
    const tag = id ? `trace ${id}` : `exchange ${ex.id}`;
    for (const [kind, hops] of [['request', ex.request?.hops ?? []], ['response', ex.response?.hops ?? []]] as const) {
      hops.forEach((h, i) => add(find(h), `flowtrace: ${tag} ${kind} hop ${i + 1}/${hops.length} (${hopChain(hops)})`));
    }
  }
  for (const a of analysis.anomalies) for (const h of a.hops) add(find(h), `flowtrace: ${a.kind}: ${a.message}`);
  return new Map([...notes].map(([k, v]) => [k, v.join('; ')]));
}
