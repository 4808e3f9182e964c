/**
 * What a resolver tool printed → follow's DnsEvidence. The tools (BIND 9's nslookup, dig and
 * host, as Debian's dnsutils ships them):
 *
 *   nslookup   Server: 10.10.53.53 / Address: 10.10.53.53#53 / Name: X / Address: A …
 *              `** server can't find X: NXDOMAIN` (SERVFAIL, REFUSED), `*** Can't find X: No answer`
 *   dig        `;; ->>HEADER<<- opcode: QUERY, status: NOERROR`, the ANSWER SECTION (with TTLs),
 *              `;; Query time: 0 msec`, `;; SERVER: 10.10.53.53#53(10.10.53.53) (UDP)`
 *   dig +short one answer per line (addresses; a CNAME target ends with a dot)
 *   host       `X has address A`, `X is an alias for Y.`, `Host X not found: 3(NXDOMAIN)`
 *   all three  `;; connection timed out; no servers could be reached` (no answer),
 *              `;; communications error to S#53: connection refused` (nothing listens: ICMP back)
 * Only dig prints TTLs: the other tools' answers are given as addresses only (no made-up TTL).
 */
import type { DnsAnswer, DnsEvidence } from '../follow/index.js';
import type { Format } from './segment.js';

export interface DnsReading {
  evidence: DnsEvidence;
  /** The name that was asked, when the output says it. */
  name: string | null;
  summary: string;
}

const ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:.]+)$/;
const RCODE_STATUS: Readonly<Record<string, DnsEvidence['status']>> = {
  NOERROR: 'ok', NXDOMAIN: 'nxdomain', SERVFAIL: 'servfail', REFUSED: 'refused', FORMERR: 'error', NOTIMP: 'error',
};

function base(): DnsEvidence {
  return { status: 'ok', server: null, addresses: [], answers: [], rcode: null, elapsedMs: null, error: null };
}

/** The failure lines every BIND tool prints. */
function failure(ev: DnsEvidence, line: string): boolean {
  let m: RegExpExecArray | null;
  if (/;; (?:connection timed out; )?no servers could be reached/.test(line)) {
    ev.status = 'timeout'; ev.error = line.replace(/^;; /, ''); return true;
  }
  if ((m = /;; communications error to (\S+): (.*)$/.exec(line))) {
    // "connection refused": the server's host answered ICMP port unreachable — nothing listens.
    ev.server ??= m[1]!;
    ev.status = /refused/i.test(m[2]!) ? 'unreachable' : /timed out/i.test(m[2]!) ? 'timeout' : 'error';
    ev.error = `communications error to ${m[1]}: ${m[2]}`;
    return true;
  }
  return false;
}

function finish(ev: DnsEvidence, name: string | null): DnsReading {
  if (ev.status === 'ok' && ev.addresses.length === 0 && ev.error === null) ev.status = 'nodata';
  const what = ev.status === 'ok' ? `${name ?? '?'} → ${ev.addresses.join(', ')}` : `${(ev.rcode ?? ev.status).toUpperCase()}${ev.error ? ` (${ev.error})` : ''}`;
  return { evidence: ev, name, summary: `${what}${ev.server ? ` from ${ev.server}` : ''}` };
}

export function readNslookup(lines: readonly string[]): DnsReading {
  const ev = base();
  let name: string | null = null;
  let inAnswer = false;
  for (const raw of lines) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if (failure(ev, line)) continue;
    if ((m = /^Server:\s+(\S+)/.exec(line))) { ev.server ??= m[1]!; continue; }
    if ((m = /^Address:\s+(\S+)#(\d+)$/.exec(line)) && !inAnswer) { ev.server = `${m[1]}#${m[2]}`; continue; }
    if ((m = /^\*\* server can't find (\S+?):? (\w+)$/.exec(line))) {
      name = m[1]!.replace(/\.$/, '');
      ev.rcode = m[2]!.toUpperCase();
      ev.status = RCODE_STATUS[ev.rcode] ?? 'error';
      ev.error = line;
      continue;
    }
    if ((m = /^\*\*\* Can't find (\S+?):? No answer$/.exec(line))) { name = m[1]!; ev.rcode = 'NOERROR'; ev.status = 'nodata'; continue; }
    if ((m = /^Name:\s+(\S+)/.exec(line))) { name ??= m[1]!.replace(/\.$/, ''); inAnswer = true; continue; }
    if ((m = /^(\S+)\s+canonical name = (\S+)$/.exec(line))) { name ??= m[1]!.replace(/\.$/, ''); continue; }
    if ((m = /^Address:\s+(\S+)$/.exec(line)) && inAnswer && ADDRESS.test(m[1]!)) {
      if (!ev.addresses.includes(m[1]!)) ev.addresses.push(m[1]!);
      ev.rcode ??= 'NOERROR';
    }
  }
  return finish(ev, name);
}

export function readDig(lines: readonly string[]): DnsReading {
  const ev = base();
  let name: string | null = null;
  let section = '';
  for (const raw of lines) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if (failure(ev, line)) continue;
    if ((m = /->>HEADER<<- opcode: \w+, status: (\w+)/.exec(line))) { ev.rcode = m[1]!; ev.status = RCODE_STATUS[m[1]!] ?? 'error'; continue; }
    if ((m = /^;; (\w+) SECTION:/.exec(line))) { section = m[1]!; continue; }
    if ((m = /^;; Query time: (\d+) msec/.exec(line))) { ev.elapsedMs = Number(m[1]); continue; }
    if ((m = /^;; SERVER: (\S+?)\(/.exec(line)) || (m = /^;; SERVER: (\S+)/.exec(line))) { const proto = /\((UDP|TCP)\)/.exec(line); ev.server = `${m[1]}${proto ? ` (${proto[1]!.toLowerCase()})` : ''}`; continue; }
    if (section === 'QUESTION' && (m = /^;(\S+?)\.?\s+IN\s+\w+/.exec(line))) { name = m[1]!; continue; }
    if (section === 'ANSWER' && (m = /^(\S+?)\.?\s+(\d+)\s+IN\s+([A-Z]+)\s+(\S+)/.exec(line))) {
      const a: DnsAnswer = { name: m[1]!, type: m[3]!, ttl: Number(m[2]), data: m[4]!.replace(/\.$/, '') };
      ev.answers.push(a);
      if ((a.type === 'A' || a.type === 'AAAA') && !ev.addresses.includes(a.data)) ev.addresses.push(a.data);
    }
  }
  return finish(ev, name);
}

export function readDigShort(lines: readonly string[], asked: string | null): DnsReading {
  const ev = base();
  for (const raw of lines) {
    const line = raw.trim();
    if (failure(ev, line)) continue;
    if (ADDRESS.test(line) && !ev.addresses.includes(line)) ev.addresses.push(line);
  }
  return finish(ev, asked);
}

export function readHost(lines: readonly string[]): DnsReading {
  const ev = base();
  let name: string | null = null;
  for (const raw of lines) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if (failure(ev, line)) continue;
    if ((m = /^(\S+) has (?:IPv6 )?address (\S+)$/.exec(line))) { name ??= m[1]!; if (!ev.addresses.includes(m[2]!)) ev.addresses.push(m[2]!); ev.rcode = 'NOERROR'; continue; }
    if ((m = /^(\S+) is an alias for (\S+)\.$/.exec(line))) { name ??= m[1]!; ev.answers.push({ name: m[1]!, type: 'CNAME', ttl: 0, data: m[2]! }); continue; }
    if ((m = /^Host (\S+) not found: \d+\((\w+)\)/.exec(line))) { name = m[1]!; ev.rcode = m[2]!; ev.status = RCODE_STATUS[m[2]!] ?? 'error'; ev.error = line; }
  }
  // host prints no TTLs: an alias line is evidence, not an answer with a TTL.
  ev.answers = [];
  return finish(ev, name);
}

/** The name a DNS command asked about, from its arguments (the first word that is not an option or a server). */
export function askedName(args: readonly string[]): string | null {
  return args.find((a) => !a.startsWith('-') && !a.startsWith('+') && !a.startsWith('@') && /[a-zA-Z]/.test(a) && !/^(?:A|AAAA|CNAME|ANY|MX|NS|TXT|SOA|IN)$/.test(a)) ?? null;
}

export function readDns(format: Format, lines: readonly string[], args: readonly string[]): DnsReading {
  switch (format) {
    case 'dig': return readDig(lines);
    case 'dig +short': return readDigShort(lines, askedName(args));
    case 'host': return readHost(lines);
    default: return readNslookup(lines);
  }
}
