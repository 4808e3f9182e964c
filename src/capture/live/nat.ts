/**
 * Port filters that follow NAT.
 *
 * Docker publishes `-p 80:8080` as a DNAT rule in the nat table:
 *   -A DOCKER ! -i docker0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 172.17.0.2:8080
 * so between ens5 and docker0 the destination port changes, and `tcpdump -i any port 80`
 * sees only the ens5 leg. This module reads the DNAT rules (`iptables-save -t nat` text,
 * or `iptables -t nat -S` text: both are the same rule syntax) and widens every
 * `port N` primitive of a pcap-filter expression to `(port N or port M)` for each M that N
 * is translated to.
 *
 * Rule syntax: iptables(8), iptables-extensions(8) (DNAT target, tcp/udp --dport).
 */
import { inNamespace, systemRunner, type ProcessRunner } from './programs.js';

export interface DnatRule {
  chain: string;
  /** 'tcp' | 'udp' | … from `-p`; null when the rule matches every protocol. */
  protocol: string | null;
  /** `--dport` as a range (a single port is from === to); null: any port. */
  matchPortFrom: number | null;
  matchPortTo: number | null;
  /** `-d` destination match (CIDR text), with `!` negation; null when absent. */
  destination: string | null;
  destinationNegated: boolean;
  /** `-i` input interface, with `!` negation; null when absent. */
  inInterface: string | null;
  inInterfaceNegated: boolean;
  /** `--to-destination`: address and port range (ports null: unchanged). */
  toAddress: string;
  toPortFrom: number | null;
  toPortTo: number | null;
  /** `-m comment --comment` text, if any. */
  comment: string | null;
  /** The rule line as read. */
  text: string;
}

/** Splits one iptables rule line into words, honouring double quotes (`--comment "a \"b\""`). */
export function ruleWords(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  return out;
}

function parsePortRange(text: string, separator: ':' | '-'): [number, number] | null {
  const parts = text.split(separator);
  if (parts.length > 2) return null;
  const from = Number(parts[0]);
  const to = parts.length === 2 ? Number(parts[1]) : from;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > 65535 || from > to) return null;
  return [from, to];
}

/** `172.17.0.2:8080`, `172.17.0.4:7000-7002`, `172.17.0.5`, `[fd00::2]:8080`, `fd00::2`. */
function parseToDestination(text: string): { address: string; ports: [number, number] | null } | null {
  let address: string;
  let portText: string | null = null;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return null;
    address = text.slice(1, end);
    if (text[end + 1] === ':') portText = text.slice(end + 2);
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [address, portText] = text.split(':') as [string, string];
  } else {
    address = text; // IPv4 without port, or bare IPv6
  }
  if (address === '') return null;
  if (portText === null || portText === '') return { address, ports: null };
  const ports = parsePortRange(portText, '-');
  return ports === null ? null : { address, ports };
}

/**
 * Every DNAT rule in iptables-save / `iptables -S` text. Lines that are not DNAT rules are
 * skipped; a DNAT line that cannot be understood is skipped too (it is reported by
 * `unparsed` so the caller can say so) — reading rules must never stop a capture.
 */
export function parseDnatRules(text: string): { rules: DnatRule[]; unparsed: string[] } {
  const rules: DnatRule[] = [];
  const unparsed: string[] = [];
  let table = 'nat'; // `iptables -t nat -S` text has no table header
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) { table = line.slice(1); continue; }
    if (table !== 'nat' || !line.startsWith('-A ') || !/-j DNAT\b/.test(line)) continue;
    const w = ruleWords(line);
    const rule: DnatRule = {
      chain: w[1] ?? '', protocol: null, matchPortFrom: null, matchPortTo: null,
      destination: null, destinationNegated: false, inInterface: null, inInterfaceNegated: false,
      toAddress: '', toPortFrom: null, toPortTo: null, comment: null, text: line,
    };
    let negate = false;
    let ok = true;
    for (let i = 2; i < w.length; i++) {
      const word = w[i];
      const next = w[i + 1];
      if (word === '!') { negate = true; continue; }
      switch (word) {
        case '-p': case '--protocol': rule.protocol = next ?? null; i++; break;
        case '-d': case '--destination': rule.destination = next ?? null; rule.destinationNegated = negate; i++; break;
        case '-i': case '--in-interface': rule.inInterface = next ?? null; rule.inInterfaceNegated = negate; i++; break;
        case '--dport': case '--destination-port': {
          const r = next === undefined ? null : parsePortRange(next, ':');
          if (r === null || negate) { ok = false; } else { [rule.matchPortFrom, rule.matchPortTo] = r; }
          i++; break;
        }
        case '--comment': rule.comment = next ?? null; i++; break;
        case '--to-destination': {
          const to = next === undefined ? null : parseToDestination(next);
          if (to === null) { ok = false; } else {
            rule.toAddress = to.address;
            if (to.ports) [rule.toPortFrom, rule.toPortTo] = to.ports;
          }
          i++; break;
        }
        default: break;
      }
      negate = false;
    }
    if (!ok || rule.toAddress === '') unparsed.push(line);
    else rules.push(rule);
  }
  return { rules, unparsed };
}

/** One translation a port filter follows: `port 80 → 172.17.0.2:8080`. */
export interface PortTranslation {
  port: number;
  toAddress: string;
  toPort: number;
  protocol: string | null;
  rule: string;
}

/** Where `port` goes through the rules (one entry per rule that rewrites it to another port). */
export function translatePort(port: number, rules: readonly DnatRule[]): PortTranslation[] {
  const out: PortTranslation[] = [];
  for (const r of rules) {
    // Docker's `-i docker0 -j RETURN` is not a DNAT rule; `! -i docker0` DNATs are the ones that
    // apply to traffic coming in on ens5. A rule for a plain `-i docker0` is container-to-host.
    if (r.inInterface !== null && !r.inInterfaceNegated) continue;
    if (r.matchPortFrom === null || r.matchPortTo === null) continue;
    if (port < r.matchPortFrom || port > r.matchPortTo) continue;
    const toPort = r.toPortFrom === null ? port : r.toPortFrom + (port - r.matchPortFrom);
    if (toPort === port) continue;
    if (r.toPortTo !== null && toPort > r.toPortTo) continue;
    if (out.some((t) => t.toPort === toPort && t.toAddress === r.toAddress)) continue;
    out.push({ port, toAddress: r.toAddress, toPort, protocol: r.protocol, rule: r.text });
  }
  return out;
}

/** Well-known names pcap-filter accepts after `port` that people type. */
const SERVICE_PORTS: Record<string, number> = { http: 80, https: 443, domain: 53, ssh: 22, 'http-alt': 8080 };

export interface FollowedFilter {
  /** The filter tcpdump gets. */
  filter: string;
  translations: PortTranslation[];
  /** The one line the CLI prints, null when nothing was followed. */
  message: string | null;
}

/**
 * Widens every `[tcp|udp] [src|dst] port N` primitive to also match the ports N is
 * DNAT'ed to. Other primitives (hosts, nets, portranges) are left as they are: the
 * widened filter matches a superset of the original.
 */
export function followNatInFilter(filter: string, rules: readonly DnatRule[]): FollowedFilter {
  // Tokens: words and parentheses; spacing of the output is normalised to single spaces.
  const tokens = filter.replace(/([()])/g, ' $1 ').split(/\s+/).filter((t) => t !== '');
  const out: string[] = [];
  const translations: PortTranslation[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const next = tokens[i + 1];
    if (t.toLowerCase() !== 'port' || next === undefined) { out.push(t); continue; }
    const port = /^\d+$/.test(next) ? Number(next) : SERVICE_PORTS[next.toLowerCase()];
    if (port === undefined || port > 65535) { out.push(t); continue; }
    const found = translatePort(port, rules);
    if (found.length === 0) { out.push(t); continue; }
    // Pull the qualifiers written before `port` (proto, dir) into the group so they apply to
    // every alternative: `tcp dst port 80` → `( tcp dst port 80 or tcp dst port 8080 )`.
    const qualifiers: string[] = [];
    while (out.length > 0 && /^(tcp|udp|sctp|src|dst|inbound|outbound)$/i.test(out[out.length - 1])) qualifiers.unshift(out.pop() as string);
    // `src or dst port 80` / `src and dst port 80`.
    if (qualifiers.length === 0 || /^(src|dst)$/i.test(qualifiers[0])) {
      const a = out[out.length - 1];
      const b = out[out.length - 2];
      if (a && b && /^(or|and)$/i.test(a) && /^(src|dst)$/i.test(b) && qualifiers.length > 0) {
        qualifiers.unshift(out.pop() as string); qualifiers.unshift(out.pop() as string);
      }
    }
    const q = qualifiers.length > 0 ? qualifiers.join(' ') + ' ' : '';
    const alternatives = [port, ...found.map((f) => f.toPort)].map((p) => `${q}port ${p}`);
    out.push('(', alternatives.join(' or '), ')');
    for (const f of found) if (!translations.some((x) => x.port === f.port && x.toPort === f.toPort && x.toAddress === f.toAddress)) translations.push(f);
    i++; // the port number was consumed
  }
  const widened = out.join(' ').replace(/\( /g, '(').replace(/ \)/g, ')');
  if (translations.length === 0) return { filter, translations, message: null };
  const arrows = translations.map((t) => `port ${t.port} → ${t.toAddress}:${t.toPort}`).join(', ');
  const ports = [...new Set(translations.flatMap((t) => [t.port, t.toPort]))].join(' or ');
  return { filter: widened, translations, message: `following NAT: ${arrows}, capturing port ${ports}` };
}

/**
 * Reads the nat table where the capture runs (`iptables-save -t nat`, in the namespace when
 * given). Never throws: a missing iptables or no permission is a `problem` the caller reports.
 */
export async function readNatRules(netns: string | null, timeoutMs = 5000, runner: ProcessRunner = systemRunner): Promise<{ text: string; problem: string | null }> {
  const argv = inNamespace(netns, ['iptables-save', '-t', 'nat']);
  const r = await runner.run(argv, { timeoutMs });
  if (r.missing) return { text: '', problem: `${argv[0]} is not installed (apt-get install ${argv[0] === 'ip' ? 'iproute2' : 'iptables'})` };
  if (r.code === 0) return { text: r.stdout, problem: null };
  return { text: r.stdout, problem: `iptables-save failed: ${(r.stderr.trim().split('\n')[0] ?? '') || `exit ${r.code}`}` };
}
