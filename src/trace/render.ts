/**
 * The text form of a trace, like `mtr --report` with traceroute's flags: per hop the
 * address(es), loss %, probes sent/received, RTT min/avg/max in ms, the !flags, the
 * destination line, then the sentences that explain the stars. Returns text; the CLI prints.
 */
import type { AddressTrace, Hop, PathMtu, ReplyKind, TraceResult } from './types.js';

const KIND_LABEL: Partial<Record<ReplyKind, string>> = {
  'tcp-syn-ack': 'SYN-ACK',
  'tcp-rst': 'RST',
  'port-unreachable': 'port unreachable',
  'echo-reply': 'echo reply',
};

const ms = (v: number | null): string => (v === null ? '-' : v < 10 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(1));

export function renderTrace(result: TraceResult): string {
  const what = result.proto === 'icmp' ? 'icmp echo' : `${result.proto} port ${result.port}`;
  const addrs = result.addresses.length ? result.addresses.join(', ') : 'no address';
  let out = `trace to ${result.host} (${addrs}): ${what}, ${result.rounds} round${result.rounds === 1 ? '' : 's'}, max ${result.maxTtl} hops\n`;
  for (const t of result.traces) out += '\n' + renderAddressTrace(t, result.maxTtl);
  return out;
}

function renderAddressTrace(t: AddressTrace, maxTtl: number): string {
  const rows: string[][] = [];
  const notes: string[] = [];
  // Trailing silent hops (stars to the end) fold into one line.
  let lastShown = t.hops.length;
  if (t.status === 'stopped' || t.status === 'no-reply') {
    while (lastShown > 0 && t.hops[lastShown - 1].received === 0) lastShown--;
  }
  for (const h of t.hops.slice(0, lastShown)) {
    rows.push(hopRow(h));
    notes.push(hopNote(h, t));
    for (const r of h.responders.slice(1)) {
      rows.push(['', r.address, '', '', String(r.replies), ms(r.rttMinMs), ms(r.rttAvgMs), ms(r.rttMaxMs)]);
      notes.push('(another responder at this hop: load balancing / ECMP)');
    }
  }
  const header = ['HOP', 'ADDRESS', 'LOSS%', 'SNT', 'RCV', 'MIN', 'AVG', 'MAX'];
  const widths = header.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[], note: string): string =>
    r.map((c, i) => (i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd() + (note ? `  ${note}` : '') + '\n';
  let out = `→ ${t.address}${t.sourceAddress ? ` from ${t.sourceAddress}` : ''}\n`;
  out += line(header, '');
  rows.forEach((r, i) => { out += line(r, notes[i]); });
  if (lastShown < t.hops.length) {
    const first = t.hops[lastShown].ttl;
    out += `${String(first).padStart(widths[0])}  ${first === maxTtl ? '' : `…${maxTtl}  `}* no reply\n`;
  }
  out += `status: ${t.status}${t.failureSource ? ` (failure: ${t.failureSource})` : ''}`;
  out += t.destinationReached ? `, destination reached at hop ${t.reachedAtTtl}` : ', destination not reached';
  out += `, ${t.probesSent} probe${t.probesSent === 1 ? '' : 's'} in ${(t.durationMs / 1000).toFixed(2)} s\n`;
  for (const e of t.explanation) out += `  - ${e}\n`;
  if (t.lateReplies || t.duplicateReplies) out += `  (${t.lateReplies} late and ${t.duplicateReplies} duplicate replies ignored)\n`;
  if (t.pathMtu) out += renderPathMtu(t.pathMtu, t.address);
  return out;
}

const HOW: Record<string, string> = {
  'frag-needed': 'fragmentation needed',
  'packet-too-big': 'packet too big',
};

/** tracepath's `pmtu N` lines: this machine's link, then each hop where the size drops. */
function renderPathMtu(m: PathMtu, address: string): string {
  const to = m.targetTtl === null ? address : m.targetIsDestination ? `${address} (hop ${m.targetTtl})` : `hop ${m.targetTtl}, the last that answers`;
  const what = m.pathMtu !== null ? `${m.pathMtu}` : m.status;
  let out = `\npmtu: ${what} to ${to}${m.status === 'black-hole' ? ' — MTU black hole' : ''}, ${m.probesSent} size probe${m.probesSent === 1 ? '' : 's'} in ${(m.durationMs / 1000).toFixed(2)} s\n`;
  const rows: string[][] = [['', "this machine's link", `pmtu ${m.localMtu ?? '?'}`, '']];
  for (const d of m.drops) {
    const how = d.how === 'black-hole' ? `black hole: larger packets stop after hop ${d.afterTtl}, no ICMP comes back`
      : d.how === 'local-link' ? 'this machine refuses larger sends (EMSGSIZE)'
        : `${HOW[d.how]} (MTU ${d.reportedMtu || 'not given'})`;
    rows.push([d.afterTtl === 0 ? '' : String(d.afterTtl), d.router ?? (d.afterTtl === 0 ? "this machine's link" : '*'), `pmtu ${d.mtu}`, how]);
  }
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) out += `${r[0].padStart(Math.max(3, widths[0]))}  ${r[1].padEnd(widths[1])}  ${r[2].padEnd(widths[2])}  ${r[3]}`.trimEnd() + '\n';
  for (const e of m.explanation) out += `  - ${e}\n`;
  return out;
}

function hopRow(h: Hop): string[] {
  const first = h.responders[0];
  const address = first ? first.address : '*';
  return [
    String(h.ttl),
    address,
    h.lossPercent === null ? '-' : h.lossPercent.toFixed(1),
    String(h.sent),
    String(first ? first.replies : 0),
    ms(first ? first.rttMinMs : null),
    ms(first ? first.rttAvgMs : null),
    ms(first ? first.rttMaxMs : null),
  ];
}

function hopNote(h: Hop, t: AddressTrace): string {
  const parts: string[] = [];
  if (h.flags.length) parts.push(h.flags.join(' '));
  if (h.destination && t.reachedAtTtl === h.ttl) {
    const kinds = h.responders[0]?.kinds.map((k) => KIND_LABEL[k]).filter(Boolean) ?? [];
    parts.push(`destination${kinds.length ? ` (${kinds.join(', ')})` : ''}`);
  }
  if (h.note && !h.flags.length) parts.push(h.note);
  if (h.failed) parts.push(`${h.failed} not sent`);
  return parts.join('  ');
}
