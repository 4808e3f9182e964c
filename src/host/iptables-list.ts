/**
 * `iptables -L -n -v` (also `-x`, `--line-numbers`, `-t TABLE`, and without `-v`) → the
 * iptables-save form, so that the one parser of rules (iptables.ts) and of DNAT rules
 * (capture/live's parseDnatRules) read it. iptables(8), iptables-extensions(8). The listing:
 *
 *   Chain FORWARD (policy DROP 0 packets, 0 bytes)          a built-in chain, its policy counter
 *   Chain DOCKER (2 references)                             a user chain
 *    pkts bytes target     prot opt in     out     source               destination
 *      47  6673 ACCEPT     0    --  docker0 !docker0  0.0.0.0/0            0.0.0.0/0
 *      10   600 DNAT       6    --  !docker0 *       0.0.0.0/0            0.0.0.0/0            tcp dpt:80 to:172.17.0.2:8080
 *
 * The protocol is a name (`tcp`, `all`) or, with iptables-nft ≥ 1.8.8, a number (`6`, `0`);
 * an empty target is a rule that only counts; counters above 99999 are rounded to K/M/G
 * unless `-x` (the facts then say `roundedCounters`). The listing does not name its table:
 * `-t TABLE` (when the caller knows it) or the chains and targets say it (DNAT/SNAT/
 * MASQUERADE or PREROUTING+POSTROUTING without FORWARD: nat; the five built-in chains: mangle;
 * PREROUTING+OUTPUT alone: raw; else filter). The matches it prints are turned back into
 * their options where the listing is unambiguous (ports, multiport, conntrack/state,
 * addrtype, comment, reject-with, to:); others are left out of the rule's text.
 */

export interface IptablesListing {
  /** The listing in iptables-save form (`*TABLE`, `:CHAIN POLICY [p:b]`, `[p:b] -A …`, `COMMIT`). */
  saveText: string;
  table: string;
  /** Counters were printed rounded (K, M, G: iptables -L without -x). */
  roundedCounters: boolean;
  /** Counters were not printed at all (iptables -L without -v). */
  noCounters: boolean;
  /** Rule lines that could not be read. */
  unread: string[];
}

const PROTOCOL_NUMBERS: Readonly<Record<string, string>> = { 0: 'all', 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp', 132: 'sctp', 136: 'udplite' };
const NAT_TARGETS = new Set(['DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP']);
const OPT_COLUMN = /^(?:--|-f|!f)$/;

/** `123`, `12K`, `3M` → a number (K = 1000, as iptables prints it). */
function counter(text: string): number | null {
  const m = /^(\d+)([KMGT]?)$/.exec(text);
  if (!m) return null;
  const scale = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * scale;
}

function quoteIfNeeded(text: string): string {
  return /^[^\s"]+$/.test(text) ? text : `"${text.replace(/(["\\])/g, '\\$1')}"`;
}

/** `!docker0` → `! -i docker0`; `*` → nothing. */
function negatable(value: string, option: string, empty: string): string[] {
  if (value === empty) return [];
  return value.startsWith('!') ? ['!', option, value.slice(1)] : [option, value];
}

/** The matches iptables -L prints after the destination column, back into options. */
function extras(text: string, protocol: string | null): { words: string[]; target: string[] } {
  const words: string[] = [];
  const target: string[] = [];
  let rest = text.trim();
  const comment = /\/\* (.*?) \*\//.exec(rest);
  if (comment) { words.push('-m', 'comment', '--comment', quoteIfNeeded(comment[1]!)); rest = rest.replace(comment[0], ' '); }
  const take = (re: RegExp): RegExpExecArray | null => { const m = re.exec(rest); if (m) rest = rest.replace(m[0], ' '); return m; };
  let m: RegExpExecArray | null;
  const proto = protocol ?? 'tcp';
  let protoMatched = false;
  const portMatch = (side: 'sport' | 'dport', value: string): void => {
    if (!protoMatched) { words.push('-m', proto); protoMatched = true; }
    if (value.startsWith('!')) words.push('!', `--${side}`, value.slice(1)); else words.push(`--${side}`, value);
  };
  while ((m = take(/\b(?:tcp|udp|sctp) (spts?|dpts?):(!?[\d:]+)/))) portMatch(m[1]!.startsWith('s') ? 'sport' : 'dport', m[2]!);
  while ((m = take(/\b(spts?|dpts?):(!?[\d:]+)/))) portMatch(m[1]!.startsWith('s') ? 'sport' : 'dport', m[2]!);
  if ((m = take(/\bmultiport (dports|sports|ports) (!?\s?[\d,:]+)/))) {
    const neg = m[2]!.startsWith('!');
    words.push('-m', 'multiport', ...(neg ? ['!'] : []), `--${m[1]}`, m[2]!.replace(/^!\s?/, ''));
  }
  if ((m = take(/\bctstate (!?\s?[A-Z,]+)/))) words.push('-m', 'conntrack', ...(m[1]!.startsWith('!') ? ['!'] : []), '--ctstate', m[1]!.replace(/^!\s?/, ''));
  if ((m = take(/\bstate (!?\s?[A-Z,]+)/))) words.push('-m', 'state', '--state', m[1]!.replace(/^!\s?/, ''));
  if ((m = take(/\bctorigdstport (\d+(?::\d+)?)/))) words.push('-m', 'conntrack', '--ctorigdstport', m[1]!);
  if ((m = take(/\bADDRTYPE match (src|dst)-type (\S+)/))) words.push('-m', 'addrtype', `--${m[1]}-type`, m[2]!);
  if ((m = take(/\breject-with (\S+)/))) target.push('--reject-with', m[1]!);
  if ((m = take(/\bto:(\S+)/))) target.push('--to', m[1]!);
  if ((m = take(/\bmasq ports: (\S+)/))) target.push('--to-ports', m[1]!);
  if ((m = take(/\bredir ports (\S+)/))) target.push('--to-ports', m[1]!);
  return { words, target };
}

/** Which table a listing is from, when the caller does not know (see the top). */
function inferTable(chains: Set<string>, targets: Set<string>): string {
  if ([...targets].some((t) => NAT_TARGETS.has(t))) return 'nat';
  const builtin = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'].filter((c) => chains.has(c));
  if (builtin.length === 5) return 'mangle';
  if (chains.has('PREROUTING') && chains.has('POSTROUTING') && !chains.has('FORWARD')) return 'nat';
  if (chains.has('PREROUTING') && chains.has('OUTPUT') && !chains.has('INPUT') && !chains.has('FORWARD')) return 'raw';
  return 'filter';
}

/**
 * Reads an `iptables -L -n [-v] [-x] [--line-numbers]` listing (one table; several listings
 * of one table may follow each other). `table`: the `-t` given, when known.
 */
export function iptablesListToSave(text: string, table: string | null = null): IptablesListing {
  const chains: Array<{ name: string; policy: string | null; packets: string | null; bytes: string | null }> = [];
  const rules: Array<{ chain: string; words: string[]; packets: string | null; bytes: string | null; target: string | null }> = [];
  const targets = new Set<string>();
  const unread: string[] = [];
  let chain: string | null = null;
  let columns: string[] | null = null;
  let rounded = false;
  let counted = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const head = /^Chain (\S+) \((?:policy (\S+)(?: (\S+) packets, (\S+) bytes)?|(\d+) references)\)/.exec(line);
    if (head) {
      chain = head[1]!;
      chains.push({ name: chain, policy: head[2] ?? null, packets: head[3] ?? null, bytes: head[4] ?? null });
      continue;
    }
    if (/^\s*(?:num\s+)?(?:pkts\s+bytes\s+)?target\s+prot\s+opt\b/.test(line)) { columns = line.trim().split(/\s+/); continue; }
    if (chain === null || columns === null) { unread.push(line); continue; }
    let w = line.trim().split(/\s+/);
    if (columns[0] === 'num') w = w.slice(1);
    let packets: string | null = null;
    let bytes: string | null = null;
    if (columns.includes('pkts')) {
      packets = w[0] ?? null;
      bytes = w[1] ?? null;
      w = w.slice(2);
      counted = true;
      if (/[KMGT]$/.test(packets ?? '') || /[KMGT]$/.test(bytes ?? '')) rounded = true;
    }
    // An empty target (a rule that only counts) shifts the columns by one.
    let target: string | null = null;
    if (w.length >= 2 && OPT_COLUMN.test(w[2] ?? '') && !OPT_COLUMN.test(w[1] ?? '')) { target = w[0]!; w = w.slice(1); }
    else if (!OPT_COLUMN.test(w[1] ?? '')) { unread.push(line); continue; }
    const withInterfaces = columns.includes('in');
    const [protoText, , inIf, outIf, source, destination] = withInterfaces ? w : [w[0], w[1], '*', '*', w[2], w[3]];
    const afterColumns = withInterfaces ? 6 : 4;
    if (protoText === undefined || source === undefined || destination === undefined) { unread.push(line); continue; }
    // The matches start after the destination column: find it in the raw line.
    const tail = line.trim().split(/\s+/).slice((columns[0] === 'num' ? 1 : 0) + (columns.includes('pkts') ? 2 : 0) + (target !== null ? 1 : 0) + afterColumns).join(' ');
    const protoNeg = protoText.startsWith('!');
    const protoName = PROTOCOL_NUMBERS[protoText.replace(/^!/, '')] ?? protoText.replace(/^!/, '');
    const protocol = protoName === 'all' ? null : protoName;
    const ex = extras(tail, protocol);
    // -L prints a host address without its /32 (/128), iptables-save with it.
    const cidr = (a: string): string => (a.includes('/') || a === '0.0.0.0/0' ? a : a.includes(':') ? `${a}/128` : `${a}/32`);
    const words: string[] = [
      ...negatable(cidr(source), '-s', '0.0.0.0/0'), ...negatable(cidr(destination), '-d', '0.0.0.0/0'),
      ...negatable(inIf ?? '*', '-i', '*'), ...negatable(outIf ?? '*', '-o', '*'),
      ...(protocol !== null ? [...(protoNeg ? ['!'] : []), '-p', protocol] : []),
      ...ex.words,
      ...(target !== null ? ['-j', target, ...ex.target.map((x) => (x !== '--to' ? x : target === 'DNAT' ? '--to-destination' : target === 'SNAT' ? '--to-source' : x))] : []),
    ];
    if (target !== null) targets.add(target);
    rules.push({ chain, words, packets, bytes, target });
  }
  const t = table ?? inferTable(new Set(chains.map((c) => c.name)), targets);
  const out: string[] = [`*${t}`];
  const declared = new Set<string>();
  const pair = (p: string | null, b: string | null): string => (p !== null && b !== null && counter(p) !== null && counter(b) !== null ? ` [${counter(p)}:${counter(b)}]` : '');
  for (const c of chains) {
    if (declared.has(c.name)) continue;
    declared.add(c.name);
    out.push(`:${c.name} ${c.policy ?? '-'}${pair(c.packets, c.bytes) || (c.policy === null && counted ? ' [0:0]' : '')}`);
  }
  for (const r of rules) {
    const prefix = r.packets !== null && r.bytes !== null && counter(r.packets) !== null && counter(r.bytes) !== null ? `[${counter(r.packets)}:${counter(r.bytes)}] ` : '';
    out.push(`${prefix}-A ${r.chain}${r.words.length ? ` ${r.words.join(' ')}` : ''}`);
  }
  out.push('COMMIT');
  return { saveText: out.join('\n') + '\n', table: t, roundedCounters: rounded, noCounters: !counted, unread };
}
