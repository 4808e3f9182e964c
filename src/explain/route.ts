/**
 * What a route tracer printed → follow's RouteEvidence. The tools (traceroute 2.1 — Debian's
 * `traceroute`, tracepath from iputils, mtr 0.95):
 *
 *   traceroute  `traceroute to NAME (ADDR), 30 hops max, 60 byte packets`, then one line per
 *               TTL: ` 2  10.255.1.2  0.337 ms  0.283 ms  0.267 ms` (-n), ` 4  seqas.online
 *               (10.77.1.10)  0.019 ms …` (names), `*` per lost probe, several responders on one
 *               line, flags after an RTT (`!H`, `!N`, `!X`, `!P`, `!S`, `!F-1500`, `!<N>`).
 *               UDP by default; -I ICMP, -T TCP (port 80 unless -p), -U UDP to port 53.
 *   tracepath   ` 1:  10.10.1.1   0.031ms`, `no reply`, ` 4:  ADDR  0.022ms reached`,
 *               `     Resume: pmtu 1500 hops 4 back 4` (UDP)
 *   mtr         --report: `  1.|-- 10.10.1.1   0.0%   3   0.1 …` (`???` a silent hop);
 *               --json: report.mtr.dst and report.hubs (ICMP by default; -u UDP, -T TCP)
 * The target's address comes from traceroute's head line, else from the hop that reached it,
 * else from the other evidence (`knownAddresses`, e.g. DNS).
 */
import type { HopEvidence, HopResponder, RouteEvidence, TraceProto } from '../follow/index.js';
import type { Format } from './segment.js';

export interface RouteReading {
  evidence: RouteEvidence;
  /** The name traced, when the output says it. */
  name: string | null;
  summary: string;
}

const ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:.]+)$/;

function protoOf(format: Format, args: readonly string[]): { proto: TraceProto; port: number | null } {
  // `-T`, `--tcp`, or a letter in a bundle of short flags (`-nT`).
  const has = (...f: string[]): boolean => args.some((a) => f.includes(a) || (/^-[a-zA-Z]{2,}$/.test(a) && f.some((x) => /^-[a-zA-Z]$/.test(x) && a.includes(x[1]!))));
  const portArg = (() => { const i = args.findIndex((a) => a === '-p' || a === '--port' || a === '-P'); return i >= 0 ? Number(args[i + 1]) : NaN; })();
  if (format === 'traceroute') {
    if (has('-T', '--tcp')) return { proto: 'tcp', port: Number.isInteger(portArg) ? portArg : 80 };
    if (has('-I', '--icmp')) return { proto: 'icmp', port: null };
    return { proto: 'udp', port: Number.isInteger(portArg) ? portArg : null };
  }
  if (format === 'tracepath') return { proto: 'udp', port: Number.isInteger(portArg) ? portArg : null };
  if (has('-T', '--tcp')) return { proto: 'tcp', port: Number.isInteger(portArg) ? portArg : 80 };
  if (has('-u', '--udp')) return { proto: 'udp', port: Number.isInteger(portArg) ? portArg : null };
  return { proto: 'icmp', port: null };
}

function finish(format: Format, args: readonly string[], target: string | null, name: string | null, hops: HopEvidence[], error: string | null, knownAddresses: readonly string[]): RouteReading {
  const { proto, port } = protoOf(format, args);
  let address = target;
  // Without a head line (tracepath, mtr): the address the last answering hop had, when it is one we know to be the target.
  const answered = hops.filter((h) => h.responders.length > 0);
  if (address === null) address = answered.map((h) => h.responders[0]!.address).find((a) => knownAddresses.includes(a)) ?? null;
  if (address === null && format === 'tracepath') address = answered.find((h) => h.isDestination)?.responders[0]?.address ?? null;
  if (address === null && format.startsWith('mtr') && answered.length > 0 && hops[hops.length - 1]!.responders.length > 0) address = hops[hops.length - 1]!.responders[0]!.address;
  if (address === null) address = knownAddresses[0] ?? name ?? '?';
  for (const h of hops) if (h.responders.some((r) => r.address === address)) h.isDestination = true;
  const reached = hops.find((h) => h.isDestination) ?? null;
  const evidence: RouteEvidence = {
    address, proto, port, status: error !== null ? 'error' : reached ? 'reached' : 'not-reached', reachedAtTtl: reached?.ttl ?? null,
    hops, explanation: null, elapsedMs: null, error,
  };
  const last = answered[answered.length - 1];
  const summary = error !== null ? `error: ${error}`
    : reached ? `${proto} to ${address}: reached at hop ${reached.ttl}`
      : `${proto} to ${address}: not reached${last ? `; last answer at hop ${last.ttl} (${last.responders[0]!.address})` : ''}, ${hops.length} hops shown`;
  return { evidence, name, summary };
}

/** traceroute's hop line words → responders, probes, flag. */
function readHopWords(words: string[]): Pick<HopEvidence, 'responders' | 'sent' | 'lossPct' | 'flag'> {
  const responders: HopResponder[] = [];
  let current: HopResponder | null = null;
  let sent = 0;
  let lost = 0;
  let flag: string | null = null;
  for (let k = 0; k < words.length; k++) {
    const w = words[k]!;
    if (w === '*') { sent++; lost++; continue; }
    if (/^!\S*$/.test(w)) { flag ??= w.startsWith('!F') ? '!F' : w; continue; }
    // A decimal comma is another locale's (read too; no tool here prints one without that locale).
    if (/^\d+(?:[.,]\d+)?$/.test(w) && words[k + 1] === 'ms') {
      if (current) { current.rttMs.push(Number(w.replace(',', '.'))); sent++; }
      k++;
      continue;
    }
    // `name (address)` or `address`
    const paren = /^\((\S+)\)$/.exec(words[k + 1] ?? '');
    const address = paren ? paren[1]! : ADDRESS.test(w) ? w : null;
    if (address !== null) {
      current = responders.find((r) => r.address === address) ?? null;
      if (!current) { current = { address, rttMs: [] }; responders.push(current); }
      if (paren) k++;
    }
  }
  return { responders, sent, lossPct: sent > 0 ? Math.round((lost / sent) * 100) : 0, flag };
}

export function readTraceroute(lines: readonly string[], args: readonly string[], knownAddresses: readonly string[]): RouteReading {
  let target: string | null = null;
  let name: string | null = null;
  let error: string | null = null;
  const hops: HopEvidence[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^traceroute6? to (\S+) \((\S+)\)/.exec(line))) { name = m[1]!; target = m[2]!; continue; }
    if ((m = /^(\S+): (?:Name or service not known|Temporary failure in name resolution|No address associated with hostname)$/.exec(line))) { name = m[1]!; error = line; continue; }
    if (/^Cannot handle "host" cmdline arg/.test(line)) continue;
    if ((m = /^(\d+)\s+(.*)$/.exec(line))) {
      const ttl = Number(m[1]);
      const hop = readHopWords(m[2]!.split(/\s+/));
      hops.push({ ttl, ...hop, isDestination: false });
      continue;
    }
    // A second line of the same TTL (more responders, printed on their own line).
    if (hops.length > 0 && /^\S/.test(line)) {
      const more = readHopWords(line.split(/\s+/));
      const h = hops[hops.length - 1]!;
      for (const r of more.responders) if (!h.responders.some((x) => x.address === r.address)) h.responders.push(r);
      h.sent += more.sent;
    }
  }
  return finish('traceroute', args, target, name, hops, error, knownAddresses);
}

export function readTracepath(lines: readonly string[], args: readonly string[], knownAddresses: readonly string[]): RouteReading {
  const byTtl = new Map<number, HopEvidence>();
  let reachedAt: number | null = null;
  for (const raw of lines) {
    const m = /^\s*(\d+)(\??):\s+(.*)$/.exec(raw);
    if (!m || /\[LOCALHOST\]/.test(m[3]!)) continue;
    const ttl = Number(m[1]);
    const hop = byTtl.get(ttl) ?? { ttl, responders: [], sent: 0, lossPct: 0, flag: null, isDestination: false };
    byTtl.set(ttl, hop);
    hop.sent++;
    if (/^no reply/.test(m[3]!)) continue;
    const w = m[3]!.split(/\s+/);
    const address = w[0]!;
    const rtt = /(\d+(?:[.,]\d+)?)ms/.exec(m[3]!);
    let r = hop.responders.find((x) => x.address === address);
    if (!r) { r = { address, rttMs: [] }; hop.responders.push(r); }
    if (rtt) r.rttMs.push(Number(rtt[1]!.replace(',', '.')));
    if (/\breached\b/.test(m[3]!)) { reachedAt = ttl; hop.isDestination = true; }
  }
  const hops = [...byTtl.values()].sort((a, b) => a.ttl - b.ttl);
  for (const h of hops) h.lossPct = h.sent > 0 ? Math.round(((h.sent - h.responders.reduce((n, r) => n + r.rttMs.length, 0)) / h.sent) * 100) : 0;
  const target = reachedAt !== null ? hops.find((h) => h.ttl === reachedAt)!.responders[0]!.address : null;
  // tracepath without -n prints names: a reached name that is not an address is the target's name.
  return finish('tracepath', args, target !== null && ADDRESS.test(target) ? target : null, target !== null && !ADDRESS.test(target) ? target : null, hops, null, knownAddresses);
}

export function readMtrReport(lines: readonly string[], args: readonly string[], knownAddresses: readonly string[]): RouteReading {
  const hops: HopEvidence[] = [];
  for (const raw of lines) {
    const m = /^\s*(\d+)\.\|--\s+(\S+)\s+([\d.]+)%?\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)/.exec(raw);
    if (!m) continue;
    const sent = Number(m[4]);
    const loss = Number(m[3]);
    const silent = m[2] === '???' || loss >= 100;
    hops.push({
      ttl: Number(m[1]), sent, lossPct: loss, flag: null, isDestination: false,
      responders: silent ? [] : [{ address: m[2]!, rttMs: [Number(m[7]), Number(m[6]), Number(m[8])] }],
    });
  }
  return finish('mtr --report', args, null, null, hops, null, knownAddresses);
}

export function readMtrJson(lines: readonly string[], args: readonly string[], knownAddresses: readonly string[]): RouteReading {
  type MtrJson = { report?: { mtr?: { dst?: string }; hubs?: Array<Record<string, unknown>> } };
  const parsed = ((): MtrJson | null => { try { return JSON.parse(lines.join('\n')) as MtrJson; } catch { return null; } })();
  if (!parsed?.report) return finish('mtr --json', args, null, null, [], 'the JSON is not mtr --json output', knownAddresses);
  const dst = parsed.report.mtr?.dst ?? null;
  const hops: HopEvidence[] = (parsed.report.hubs ?? []).map((h, k) => {
    const host = typeof h.host === 'string' ? h.host : '???';
    const loss = Number(h['Loss%'] ?? 0);
    const silent = host === '???' || loss >= 100;
    return {
      ttl: Number(h.count ?? k + 1), sent: Number(h.Snt ?? 0), lossPct: loss, flag: null, isDestination: false,
      responders: silent ? [] : [{ address: host, rttMs: [Number(h.Best), Number(h.Avg), Number(h.Wrst)].filter((x) => Number.isFinite(x)) }],
    };
  });
  const target = dst !== null && ADDRESS.test(dst) ? dst : null;
  return finish('mtr --json', args, target, target === null ? dst : null, hops, null, knownAddresses);
}

export function readRoute(format: Format, lines: readonly string[], args: readonly string[], knownAddresses: readonly string[]): RouteReading {
  switch (format) {
    case 'tracepath': return readTracepath(lines, args, knownAddresses);
    case 'mtr --report': return readMtrReport(lines, args, knownAddresses);
    case 'mtr --json': return readMtrJson(lines, args, knownAddresses);
    default: return readTraceroute(lines, args, knownAddresses);
  }
}
