/**
 * Recognising the parts of a pasted text: which tool printed which lines. A text is read top
 * to bottom; at each line:
 *  1. a shell prompt with a known command (`$ nslookup seqas.online`, `root@ip-…:~# ip -o
 *     link`, `# iptables -t nat -L -n -v`) says what follows, where it ran (`ip netns exec X`,
 *     `docker exec X`, `nsenter -t PID -n`) and with which options (`traceroute -T`, `-t nat`):
 *     the lines up to the next prompt are that command's output (what its format does not
 *     take is recognised again, as below);
 *  2. otherwise each format is tried by its first line, in a fixed order (the most specific
 *     signatures first), and takes the lines that are its own.
 * A line nobody takes is reported as not recognised — never guessed into a part.
 */
import { tcpdumpBlockEnd } from '../capture/index.js';

export type Format =
  | 'nslookup' | 'dig' | 'dig +short' | 'host'
  | 'traceroute' | 'tracepath' | 'mtr --report' | 'mtr --json'
  | 'curl -v' | 'curl -w'
  | 'tcpdump'
  | 'ip link' | 'ip addr' | 'ip route' | 'ip neigh'
  | 'iptables -L' | 'iptables-save' | 'iptables -S'
  | 'docker ps' | 'ss' | 'sysctl';

/** The command typed before a part, as far as it matters for reading it. */
export interface Command {
  text: string;
  tool: string;
  args: string[];
  /** `ip netns exec X`, `docker exec X` (`container X`), `nsenter -t PID` (`pid PID`), `lab exec NODE` (`ft-NODE`). */
  namespace: string | null;
  /** The format its output has, when the command says it. */
  format: Format | null;
}

export interface RawPart {
  format: Format;
  source: string;
  /** Index of the first line and one past the last, in the source's lines. */
  from: number;
  to: number;
  lines: string[];
  command: Command | null;
}

export interface Segmented {
  parts: RawPart[];
  unrecognised: Array<{ source: string; from: number; to: number; text: string }>;
}

const PROMPT = /^(?:[\w.-]+@[\w.-]+(?::[^\s#$%]*)?\s*[#$%]|\[[^\]]+\][#$%]|[#$%])\s+(\S.*)$/;
const TOOLS = new Set(['nslookup', 'dig', 'host', 'traceroute', 'traceroute6', 'tracepath', 'tracepath6', 'mtr', 'curl', 'tcpdump', 'ip', 'iptables', 'ip6tables', 'iptables-save', 'ip6tables-save', 'iptables-legacy', 'iptables-nft', 'iptables-legacy-save', 'iptables-nft-save', 'docker', 'ss', 'sysctl', 'nsenter', 'flowtrace', 'sudo', 'kubectl']);

/** Splits a command line into words (quotes honoured, no expansion). */
function shellWords(text: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push(m[1] ?? (m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!));
  return out;
}

/** The command of a prompt line, unwrapped from sudo and namespace wrappers; null when it is none we know. */
export function parseCommand(line: string): Command | null {
  const m = PROMPT.exec(line.trim());
  if (!m) return null;
  const text = m[1]!.replace(/\s+(?:2>&1|\|&)\s*.*$|\s*\|.*$/, '').trim();
  let w = shellWords(text);
  let namespace: string | null = null;
  for (;;) {
    if (w[0] === 'sudo' || w[0] === 'time' || w[0] === 'env') { w = w.slice(1); while (w[0]?.startsWith('-')) w = w.slice(1); continue; }
    if (w[0] === 'ip' && w[1] === 'netns' && w[2] === 'exec' && w[3]) { namespace = w[3]; w = w.slice(4); continue; }
    if (w[0] === 'ip' && (w[1] === '-n' || w[1] === '-netns') && w[2]) { namespace = w[2]; w = ['ip', ...w.slice(3)]; continue; }
    if (w[0] === 'docker' && w[1] === 'exec') {
      let k = 2;
      while (w[k]?.startsWith('-')) k += /^-(?:e|u|w|-env|-user|-workdir)$/.test(w[k]!) ? 2 : 1;
      if (!w[k]) break;
      namespace = `container ${w[k]}`;
      w = w.slice(k + 1);
      continue;
    }
    if (w[0] === 'nsenter') {
      const t = w.findIndex((x) => x === '-t' || x === '--target');
      const netPath = w.find((x) => x.startsWith('--net='));
      namespace = t >= 0 && w[t + 1] ? `pid ${w[t + 1]}` : netPath ? netPath.slice(6) : 'nsenter';
      const dd = w.indexOf('--');
      let k = dd >= 0 ? dd + 1 : 1;
      if (dd < 0) while (k < w.length && (w[k]!.startsWith('-') || (w[k - 1] === '-t' || w[k - 1] === '--target'))) k++;
      w = w.slice(k);
      continue;
    }
    if (w[0] === 'flowtrace' && w[1] === 'lab' && w[2] === 'exec' && w[3]) {
      namespace = `ft-${w[3]}`;
      const dd = w.indexOf('--');
      w = w.slice(dd >= 0 ? dd + 1 : 4);
      continue;
    }
    break;
  }
  const tool = (w[0] ?? '').replace(/^.*\//, '');
  if (!TOOLS.has(tool)) return null;
  const args = w.slice(1);
  return { text: m[1]!, tool, args, namespace, format: formatOf(tool, args) };
}

function formatOf(tool: string, args: string[]): Format | null {
  const has = (...flags: string[]): boolean => args.some((a) => flags.includes(a));
  switch (tool) {
    case 'nslookup': return 'nslookup';
    case 'dig': return args.includes('+short') ? 'dig +short' : 'dig';
    case 'host': return 'host';
    case 'traceroute': case 'traceroute6': return 'traceroute';
    case 'tracepath': case 'tracepath6': return 'tracepath';
    case 'mtr': return has('--json', '-j') ? 'mtr --json' : 'mtr --report';
    case 'curl': return args.some((a) => a === '-w' || a.startsWith('--write-out') || (a.startsWith('-w') && a.length > 2)) && !has('-v', '--verbose') ? 'curl -w' : 'curl -v';
    case 'tcpdump': return 'tcpdump';
    case 'ip': {
      const object = args.find((a) => !a.startsWith('-') && !/^\d$/.test(a));
      if (!object) return null;
      if ('link'.startsWith(object)) return 'ip link';
      if ('address'.startsWith(object) || object === 'a') return 'ip addr';
      if ('route'.startsWith(object) || object === 'r') return 'ip route';
      if ('neighbour'.startsWith(object) || 'neighbor'.startsWith(object)) return 'ip neigh';
      return null;
    }
    case 'iptables': case 'ip6tables': case 'iptables-legacy': case 'iptables-nft':
      return has('-S', '--list-rules') ? 'iptables -S' : args.some((a) => /^-[a-zA-Z]*L/.test(a) || a === '--list') ? 'iptables -L' : null;
    case 'iptables-save': case 'ip6tables-save': case 'iptables-legacy-save': case 'iptables-nft-save': return 'iptables-save';
    case 'docker': return args[0] === 'ps' || (args[0] === 'container' && (args[1] === 'ls' || args[1] === 'ps')) ? 'docker ps' : null;
    case 'ss': return 'ss';
    case 'sysctl': return 'sysctl';
    default: return null;
  }
}

// ── the formats, by their lines ────────────────────────────────────────────────────────

const IPV4 = String.raw`\d{1,3}(?:\.\d{1,3}){3}`;
const IP_ANY = String.raw`(?:${IPV4}|[0-9a-fA-F]*:[0-9a-fA-F:.]+)`;
const ADDRESS_LINE = new RegExp(`^${IP_ANY}$`);
const CURL_WRITE_OUT = /^\s*(?:time_(?:namelookup|connect|appconnect|pretransfer|redirect|starttransfer|total)|https?_code|response_code|http_version|remote_ip|remote_port|local_ip|local_port|num_connects|size_download|size_upload|size_header|size_request|speed_download|url_effective|exitcode|errormsg|content_type|scheme|method)\s*[:=]\s*\S/;
const CURL_LINE = /^(?:\* |\*\s{2,}Trying |> |< |\{ \[|\} \[|curl: \(\d+\)|\s*% Total\s+% Received|\s*Dload\s+Upload|\s*\d+\s+\d+[kMG]?\s+\d+\s+\d+[kMG]?\s+\d+\s+\d+[kMG]?\s+\d+)/;
const IP_LINK_HEAD = /^\s*\d+:\s+[^\s:@]+(?:@\S+?)?:\s+</;
const IP_O_ADDR = new RegExp(String.raw`^\s*\d+:\s+[^\s:@]+\s+inet6?\s+\S+`);
const IP_BRIEF = /^[^\s:@]+(?:@\S+)?\s+(?:UP|DOWN|UNKNOWN|LOWERLAYERDOWN|DORMANT)\s/;
const ROUTE_LINE = new RegExp(String.raw`^(?:(?:unicast|local|broadcast|multicast|anycast|blackhole|unreachable|prohibit|throw|nat)\s+)?(?:default|${IP_ANY}(?:/\d+)?)(?:\s+(?:via|dev|proto|scope|src|metric|table|linkdown|onlink|pref|mtu|expires|cache|uid)\b.*)?$`);
const NEIGH_LINE = new RegExp(String.raw`^${IP_ANY} dev \S+(?: lladdr \S+)?(?: (?:router|proxy|extern_learn))*(?: [A-Z_]+)+\s*$`);
const SYSCTL_LINE = /^(?:net|kernel|vm|fs)\.[\w.\-/]+ = \S/;

interface Recognizer {
  format: Format;
  /** Does a part of this format start at line i? */
  starts(lines: readonly string[], i: number): boolean;
  /** One past its last line (at least i + 1). */
  end(lines: readonly string[], i: number): number;
}

/** While `keep` holds (blank lines are kept when a kept line follows them). */
function extend(lines: readonly string[], i: number, keep: (line: string, at: number) => boolean): number {
  let end = i + 1;
  let k = i + 1;
  while (k < lines.length) {
    const l = lines[k]!;
    if (l.trim() === '') { k++; continue; }
    if (!keep(l, k)) break;
    end = ++k;
  }
  return end;
}

/** While `keep` holds, stopping at the first blank line. */
function run(lines: readonly string[], i: number, keep: (line: string) => boolean): number {
  let k = i + 1;
  while (k < lines.length && lines[k]!.trim() !== '' && keep(lines[k]!)) k++;
  return k;
}

/** The closing brace of a JSON value that starts at line i; -1 when it does not close. */
function jsonEnd(lines: readonly string[], i: number): number {
  let depth = 0;
  let inString = false;
  for (let k = i; k < lines.length && k < i + 5000; k++) {
    const l = lines[k]!;
    for (let c = 0; c < l.length; c++) {
      const ch = l[c]!;
      if (inString) { if (ch === '\\') c++; else if (ch === '"') inString = false; continue; }
      if (ch === '"') inString = true;
      else if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') { depth--; if (depth === 0) return k + 1; }
    }
  }
  return -1;
}

const DNS_FAILURE = /^;; (?:connection timed out; no servers could be reached|communications error to \S+: .*|no servers could be reached)\s*$/;

const RECOGNIZERS: Recognizer[] = [
  {
    format: 'dig',
    starts: (l, i) => /^; <<>> DiG /.test(l[i]!) || /^;; ->>HEADER<<- /.test(l[i]!),
    end: (l, i) => {
      let k = i + 1;
      while (k < l.length) {
        const t = l[k]!;
        if (/^;; MSG SIZE/.test(t)) return k + 1;
        if (t.trim() === '' || t.startsWith(';') || /^\S+\s+\d+\s+IN\s+[A-Z]+\s+\S/.test(t)) { k++; continue; }
        break;
      }
      return k;
    },
  },
  {
    format: 'nslookup',
    starts: (l, i) => (/^Server:\s+\S/.test(l[i]!) && /^Address:\s+\S+#\d+/.test(l[i + 1] ?? '')) || /^\*\* server can't find /.test(l[i]!),
    end: (l, i) => extend(l, i, (t) => /^(?:Server:|Address:|Name:|Aliases:|Non-authoritative answer:|Authoritative answers can be found|\*\* server can't find|\*\*\* Can't find|\S+\s+canonical name = |;;)/.test(t)),
  },
  {
    format: 'host',
    starts: (l, i) => /^\S+ (?:has (?:IPv6 )?address \S+|is an alias for \S+|has no (?:A|AAAA) record)$/.test(l[i]!.trim()) || /^Host \S+ not found: \d+\(\w+\)/.test(l[i]!),
    end: (l, i) => run(l, i, (t) => /^\S+ (?:has (?:IPv6 )?address \S+|is an alias for \S+|has no \S+ record|mail is handled by .*)$/.test(t.trim()) || /^Host \S+ not found/.test(t)),
  },
  {
    format: 'traceroute',
    starts: (l, i) => /^traceroute6? to \S+ \(\S+\), \d+ hops max/.test(l[i]!),
    end: (l, i) => run(l, i, (t) => /^\s*\d+\s+(?:\S+\s+\(\S+\)|\S+|\*)/.test(t) || /^\s{3,}\S/.test(t)),
  },
  {
    format: 'tracepath',
    starts: (l, i) => /^\s*1\??:\s+(?:\[LOCALHOST\]|\S+\s+[\d.]+ms|no reply)/.test(l[i]!),
    end: (l, i) => run(l, i, (t) => /^\s*\d+\??:\s+/.test(t) || /^\s+Resume:/.test(t) || /^\s+Too many hops:/.test(t)),
  },
  {
    format: 'mtr --report',
    starts: (l, i) => /^Start: \d{4}-\d{2}-\d{2}/.test(l[i]!) || /^HOST: \S+\s+Loss%/.test(l[i]!),
    end: (l, i) => run(l, i, (t) => /^HOST: \S+\s+Loss%/.test(t) || /^\s*\d+\.\|-- /.test(t) || /^\s+\|\s+`\|-- /.test(t) || /^\s*\|`\|-- /.test(t)),
  },
  {
    format: 'mtr --json',
    starts: (l, i) => /^\s*\{\s*$/.test(l[i]!) && /"report"\s*:/.test(l.slice(i, i + 3).join(' ')) || /^\{"report":/.test(l[i]!),
    end: (l, i) => { const e = jsonEnd(l, i); return e < 0 ? i + 1 : e; },
  },
  {
    format: 'curl -v',
    starts: (l, i) => CURL_LINE.test(l[i]!),
    end: (l, i) => {
      // The body curl printed sits between the response head and the closing `*` line.
      let k = i + 1;
      let end = i + 1;
      let inBody = false;
      while (k < l.length) {
        const t = l[k]!;
        if (CURL_LINE.test(t)) { inBody = /^< \s*$/.test(t) || (inBody && /^\{ \[/.test(t)); end = ++k; continue; }
        if (t.trim() === '') { k++; continue; }
        if (inBody && k - end < 200) { end = ++k; continue; }
        break;
      }
      // Piped (`2>&1 | …`), curl's stdout comes last: the body after its closing line is its own.
      if (/^\* (?:Connection #\d+ to host .* left intact|Closing connection)/.test(l[end - 1] ?? '')) {
        let k2 = end;
        while (k2 < l.length && k2 - end < 200 && !RECOGNIZERS.some((x) => x.format !== 'curl -v' && x.starts(l, k2)) && parseCommand(l[k2]!) === null) {
          if (l[k2]!.trim() === '' && (k2 + 1 >= l.length || l[k2 + 1]!.trim() === '')) break;
          k2++;
        }
        while (k2 > end && l[k2 - 1]!.trim() === '') k2--;
        return k2;
      }
      return end;
    },
  },
  {
    format: 'curl -w',
    starts: (l, i) => CURL_WRITE_OUT.test(l[i]!),
    end: (l, i) => run(l, i, (t) => CURL_WRITE_OUT.test(t) || /^\s*-{3,}\s*$/.test(t)),
  },
  {
    format: 'tcpdump',
    starts: (l, i) => tcpdumpBlockEnd(l, i) > i,
    end: (l, i) => tcpdumpBlockEnd(l, i),
  },
  {
    format: 'iptables-save',
    starts: (l, i) => /^# Generated by (?:ip6?tables|xtables)-save/.test(l[i]!) || (/^\*(?:filter|nat|mangle|raw|security)\s*$/.test(l[i]!)),
    end: (l, i) => {
      let k = i;
      let end = i + 1;
      while (k < l.length) {
        const t = l[k]!.trim();
        if (t === '' || /^#/.test(t) || /^\*\w+$/.test(t) || /^:\S+ \S+/.test(t) || /^(?:\[\d+:\d+\] )?-[AIN] /.test(t) || t === 'COMMIT') { end = ++k; continue; }
        break;
      }
      return end;
    },
  },
  {
    format: 'iptables -L',
    starts: (l, i) => /^Chain \S+ \((?:policy \S+|\d+ references)/.test(l[i]!),
    end: (l, i) => extend(l, i, (t) => /^Chain \S+ \(/.test(t) || /^\s*(?:num\s+)?(?:pkts\s+bytes\s+)?target\s+prot\s+opt/.test(t) || /^\s*\d*\s*[\d.]+[KMGT]?\s+[\d.]+[KMGT]?\s/.test(t) || /^\S+\s+(?:all|tcp|udp|icmp|\d+|!?\w+)\s+(?:--|-f|!f)\s/.test(t)),
  },
  {
    format: 'iptables -S',
    starts: (l, i) => /^-[PN] \S+/.test(l[i]!) || /^-A \S+ .*-j \S+/.test(l[i]!),
    end: (l, i) => run(l, i, (t) => /^-[PNA] \S+/.test(t)),
  },
  {
    format: 'ip link',
    starts: (l, i) => (IP_LINK_HEAD.test(l[i]!) && !/\binet6? /.test(l.slice(i, i + 4).join('\n'))) || (IP_BRIEF.test(l[i]!) && /<[A-Z_,]*>/.test(l[i]!)) || /^\[\{"ifindex":\d+,.*"ifname"/.test(l[i]!) && !/"addr_info"/.test(l[i]!),
    end: (l, i) => run(l, i, (t) => IP_LINK_HEAD.test(t) || /^\s+\S/.test(t) || IP_BRIEF.test(t)),
  },
  {
    format: 'ip addr',
    starts: (l, i) => IP_LINK_HEAD.test(l[i]!) || IP_O_ADDR.test(l[i]!) || IP_BRIEF.test(l[i]!) || /^\[\{"ifindex":\d+,/.test(l[i]!),
    end: (l, i) => /^\[/.test(l[i]!) ? i + 1 : run(l, i, (t) => IP_LINK_HEAD.test(t) || IP_O_ADDR.test(t) || /^\s+\S/.test(t) || IP_BRIEF.test(t)),
  },
  {
    format: 'ip neigh',
    starts: (l, i) => NEIGH_LINE.test(l[i]!.trim()),
    end: (l, i) => run(l, i, (t) => NEIGH_LINE.test(t.trim())),
  },
  {
    format: 'ip route',
    // A bare address is a DNS answer (dig +short), not a route: a route line has a keyword.
    starts: (l, i) => ROUTE_LINE.test(l[i]!.trim()) && /\s(?:via|dev)\s|^(?:blackhole|unreachable|prohibit|throw)\s/.test(l[i]!.trim()),
    end: (l, i) => run(l, i, (t) => ROUTE_LINE.test(t.trim()) && !ADDRESS_LINE.test(t.trim()) || /^\s+cache\b/.test(t)),
  },
  {
    format: 'docker ps',
    starts: (l, i) => /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES/.test(l[i]!),
    end: (l, i) => run(l, i, (t) => /^[0-9a-f]{12}\s/.test(t)),
  },
  {
    format: 'ss',
    starts: (l, i) => /^(?:Netid\s+)?State\s+Recv-Q\s+Send-Q\s+Local Address:Port/.test(l[i]!) || /^(?:tcp\s+)?LISTEN\s+\d+\s+\d+\s+\S+:\S+/.test(l[i]!),
    end: (l, i) => run(l, i, (t) => /^(?:tcp\s+|udp\s+)?(?:LISTEN|ESTAB|UNCONN|TIME-WAIT|SYN-SENT|SYN-RECV|CLOSE-WAIT|FIN-WAIT-\d|LAST-ACK|CLOSING)\s+\d+\s+\d+/.test(t)),
  },
  {
    format: 'sysctl',
    starts: (l, i) => SYSCTL_LINE.test(l[i]!),
    end: (l, i) => run(l, i, (t) => SYSCTL_LINE.test(t)),
  },
  {
    format: 'dig +short',
    starts: (l, i) => ADDRESS_LINE.test(l[i]!.trim()),
    end: (l, i) => run(l, i, (t) => ADDRESS_LINE.test(t.trim()) || /^[\w.-]+\.$/.test(t.trim())),
  },
];

/** A DNS tool's failure line, alone (`;; connection timed out; no servers could be reached` — dig, host and nslookup all print it). */
function dnsFailureAt(lines: readonly string[], i: number): boolean {
  return DNS_FAILURE.test(lines[i]!.trim());
}

const BY_FORMAT = new Map(RECOGNIZERS.map((r) => [r.format, r]));

/** Splits one source's text into parts. */
export function segment(text: string, source: string): Segmented {
  // Lines as an editor numbers them; within one, what a \r redrew over (curl's progress meter
  // redraws itself) is what the terminal showed last.
  const lines = text.split('\n').map((l) => {
    const t = l.endsWith('\r') ? l.slice(0, -1) : l;
    const k = t.lastIndexOf('\r');
    return k >= 0 ? t.slice(k + 1) : t;
  });
  const parts: RawPart[] = [];
  const unrecognised: Segmented['unrecognised'] = [];
  let pendingUnread: { from: number; to: number } | null = null;
  const unread = (k: number): void => {
    if (pendingUnread && pendingUnread.to === k) pendingUnread.to = k + 1;
    else { flushUnread(); pendingUnread = { from: k, to: k + 1 }; }
  };
  const flushUnread = (): void => {
    if (pendingUnread) unrecognised.push({ source, from: pendingUnread.from, to: pendingUnread.to, text: lines[pendingUnread.from]!.slice(0, 120) });
    pendingUnread = null;
  };
  let command: Command | null = null;
  let commandUntil = -1;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '') { i++; continue; }
    const cmd = parseCommand(line);
    if (cmd) {
      command = cmd;
      // The command's output runs to the next prompt line.
      let k = i + 1;
      while (k < lines.length && parseCommand(lines[k]!) === null && !PROMPT_ONLY.test(lines[k]!.trim())) k++;
      commandUntil = k;
      i++;
      // Its format takes its lines first, from the first non-blank one.
      while (i < commandUntil && lines[i]!.trim() === '') i++;
      const r = cmd.format ? BY_FORMAT.get(cmd.format) : undefined;
      if (r && i < commandUntil && (cmd.format === 'dig +short' || cmd.format === 'curl -w' || r.starts(lines, i) || dnsFailureAt(lines, i) || cmd.format === 'traceroute' || cmd.format === 'curl -v')) {
        const end = Math.min(commandUntil, Math.max(i + 1, cmd.format === 'dig +short' || cmd.format === 'traceroute' || cmd.format === 'curl -v' ? commandOutputEnd(lines, i, commandUntil, r) : r.end(lines, i)));
        flushUnread();
        parts.push({ format: cmd.format!, source, from: i, to: end, lines: lines.slice(i, end), command: cmd });
        i = end;
      }
      continue;
    }
    if (PROMPT_ONLY.test(line.trim())) { command = null; i++; continue; }
    const inCommand = command !== null && i < commandUntil ? command : null;
    // A bare list of addresses is dig +short's only after its command (else it is no evidence of anything).
    const r = RECOGNIZERS.find((x) => x.format !== 'dig +short' && x.starts(lines, i));
    if (r) {
      const end = Math.max(i + 1, r.end(lines, i));
      flushUnread();
      parts.push({ format: r.format, source, from: i, to: end, lines: lines.slice(i, end), command: inCommand && inCommand.format === r.format ? inCommand : null });
      i = end;
      continue;
    }
    if (dnsFailureAt(lines, i)) {
      flushUnread();
      const format: Format = inCommand?.format === 'dig' || inCommand?.format === 'host' || inCommand?.format === 'dig +short' ? inCommand.format : 'nslookup';
      parts.push({ format, source, from: i, to: i + 1, lines: [line], command: inCommand });
      i++;
      continue;
    }
    unread(i);
    i++;
  }
  flushUnread();
  return { parts, unrecognised };
}

/** An empty prompt (`$`, `root@host:~#`): the end of the previous command's output. */
const PROMPT_ONLY = /^(?:[\w.-]+@[\w.-]+(?::[^\s#$%]*)?\s*[#$%]|[#$%])\s*$/;

/**
 * A command whose output may hold lines its format does not start with (traceroute's name
 * error, curl's progress meter and body, dig +short's list): all of its lines up to the next
 * prompt, unless another format clearly starts inside them.
 */
function commandOutputEnd(lines: readonly string[], i: number, until: number, own: Recognizer): number {
  const ownEnd = own.starts(lines, i) ? own.end(lines, i) : i + 1;
  let k = Math.max(ownEnd, i + 1);
  while (k < until) {
    if (lines[k]!.trim() !== '' && RECOGNIZERS.some((x) => x !== own && x.format !== 'dig +short' && x.starts(lines, k))) break;
    k++;
  }
  while (k > i + 1 && lines[k - 1]!.trim() === '') k--;
  return k;
}
